import asyncpg

from services.notifier.adapters import repository
from shared.events import Envelope, SubmissionReceived, SubmissionScored
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


async def note_submission(conn: asyncpg.Connection, event: Envelope[SubmissionReceived]) -> None:
    """Remember that the center submitted for the round (reminders skip it)."""
    await repository.record_submission(conn, event.data)


async def note_result(conn: asyncpg.Connection, event: Envelope[SubmissionScored]) -> None:
    """Remember the verdict of a submission version (the result notice reports it)."""
    await repository.record_result(conn, event.data)


def register(runtime: ServiceRuntime) -> None:
    runtime.subscribe(Topic.SUBMISSION_RECEIVED, Envelope[SubmissionReceived], note_submission)
    runtime.subscribe(Topic.SUBMISSION_SCORED, Envelope[SubmissionScored], note_result)
