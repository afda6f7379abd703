import asyncpg

from services.export.adapters import repository
from shared.events import Envelope, SubmissionReceived, SubmissionScored
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


async def keep_submission(conn: asyncpg.Connection, event: Envelope[SubmissionReceived]) -> None:
    """Keep each submission version for the round's dataset (lateness, version count)."""
    await repository.record_received(conn, event.data)


async def keep_score(conn: asyncpg.Connection, event: Envelope[SubmissionScored]) -> None:
    """Keep the scores and verdict of each submission version for the round's dataset."""
    await repository.record_scored(conn, event.data)


def register(runtime: ServiceRuntime) -> None:
    runtime.subscribe(Topic.SUBMISSION_RECEIVED, Envelope[SubmissionReceived], keep_submission)
    runtime.subscribe(Topic.SUBMISSION_SCORED, Envelope[SubmissionScored], keep_score)
