from collections.abc import Sequence

import asyncpg

from services.notifier import handlers
from services.notifier.metrics import NotifierMetrics
from shared.events import (
    CenterRegistered,
    DeadlineNear,
    Envelope,
    RoundClosed,
    RoundScheduled,
    SignInRequested,
    SubmissionReceived,
    SubmissionScored,
)
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


def register(runtime: ServiceRuntime, metrics: NotifierMetrics, portal_url: str) -> None:
    async def note_submission(
        conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
    ) -> None:
        """Remember who submitted for which round (reminders skip them); send the receipt."""
        await handlers.note_submissions(conn, events, metrics)

    async def note_result(
        conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionScored]]
    ) -> None:
        """Remember the verdict of a submission version; send the result notice."""
        await handlers.note_results(conn, events, metrics)

    async def note_round(conn: asyncpg.Connection, event: Envelope[RoundScheduled]) -> None:
        """Keep the round's current dates (the round clock runs on them)."""
        await handlers.note_round(conn, event, metrics)

    async def note_center(conn: asyncpg.Connection, event: Envelope[CenterRegistered]) -> None:
        """Keep the center's name, parent office and contact addresses."""
        await handlers.note_center(conn, event, metrics)

    async def send_sign_in_link(conn: asyncpg.Connection, event: Envelope[SignInRequested]) -> None:
        """Send the one-time sign-in link a person asked for (before any other message)."""
        await handlers.send_sign_in_link(conn, event, portal_url, metrics)

    runtime.subscribe(Topic.SIGN_IN_REQUESTED, Envelope[SignInRequested], send_sign_in_link)
    runtime.subscribe_batch(
        Topic.SUBMISSION_RECEIVED, Envelope[SubmissionReceived], note_submission
    )
    runtime.subscribe_batch(Topic.SUBMISSION_SCORED, Envelope[SubmissionScored], note_result)
    runtime.subscribe(Topic.ROUND_SCHEDULED, Envelope[RoundScheduled], note_round)
    runtime.subscribe(Topic.CENTER_REGISTERED, Envelope[CenterRegistered], note_center)
    runtime.publishes(
        Topic.DEADLINE_NEAR,
        Envelope[DeadlineNear],
        "A round's due date is near (once per round and offset, by the notifier's round"
        " clock); key: round id.",
    )
    runtime.publishes(
        Topic.ROUND_CLOSED,
        Envelope[RoundClosed],
        "A round passed its closing time (once per round, by the round clock); key: round id.",
    )
