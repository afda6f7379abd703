"""The export service's use cases on events: keep its copies, open exports, tell intake."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from services.export.adapters import repository
from shared.events import (
    CenterRegistered,
    Envelope,
    ExportRequested,
    ExportStatus,
    RoundClosed,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.messaging.outbox import enqueue
from shared.topics import Topic

SERVICE = "export"


async def keep_submissions(
    conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
) -> None:
    """Keep each submission version for the round's dataset (lateness, version count); a
    version of a round already exported makes a delta due."""
    # A batch in one statement: a round's burst brings 1,343 of these within seconds.
    await repository.record_received_many(conn, [e.data for e in events])


async def keep_scores(
    conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionScored]]
) -> None:
    """Keep the scores and verdict of each submission version for the round's dataset."""
    await repository.record_scored_many(conn, [e.data for e in events])


async def keep_center(conn: asyncpg.Connection, event: Envelope[CenterRegistered]) -> None:
    """Keep the registry: every certified center is a record of each round's dataset."""
    await repository.record_center(conn, event.data)


async def export_closed_round(conn: asyncpg.Connection, event: Envelope[RoundClosed]) -> None:
    """A round closed: its full export, once however often the event comes."""
    export_id = await repository.create_export(conn, event.data.round_id, "full", "round_closed")
    if export_id is not None:
        await announce(conn, export_id)


async def export_on_request(conn: asyncpg.Connection, event: Envelope[ExportRequested]) -> None:
    """An operator asked for the round's export now: a full one, once per request."""
    request = event.data
    export_id = await repository.create_export(
        conn, request.round_id, "full", "operator", request.request_id
    )
    if export_id is not None:
        await announce(conn, export_id)


async def announce(conn: asyncpg.Connection, export_id: UUID) -> None:
    """Publish the export's current state (in the transaction that changed it)."""
    row = await repository.get_export(conn, export_id)
    status = ExportStatus(
        export_id=row["id"],
        round_id=row["round_id"],
        kind=row["kind"],
        trigger=row["trigger"],
        request_id=row["request_id"],
        state=row["state"],
        records=row["records"],
        batches=row["batches"],
        batches_acknowledged=row["batches_acked"],
        attempts=row["attempts"],
        last_error=row["last_error"],
        counts=row["counts"],
        acknowledged=row["acknowledged"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
    await enqueue(conn, Topic.EXPORT_STATUS, str(export_id), new_event(status, SERVICE))
