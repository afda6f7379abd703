"""Exports to OPS/PMO as intake sees them: requested by operators, reported by the export
service."""

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters import audit, repository
from services.intake.domain.principals import Principal
from services.intake.handlers.errors import NotFound
from shared.events import Envelope, ExportRequested, ExportStatus, new_event
from shared.messaging.outbox import enqueue
from shared.topics import Topic

SERVICE = "intake"


async def request_export(
    pool: asyncpg.Pool, who: Principal, round_id: str, remote_addr: str, now: datetime
) -> UUID:
    """Ask the export service for the round's export now (audited); returns the request id."""
    request_id = uuid4()
    async with pool.acquire() as conn, conn.transaction():
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        await repository.add_export_request(conn, request_id, round_id, who.actor, now)
        requested = ExportRequested(
            request_id=request_id, round_id=round_id, requested_by=who.actor, requested_at=now
        )
        await enqueue(conn, Topic.EXPORT_REQUESTED, round_id, new_event(requested, SERVICE, now))
        await audit.record(
            conn,
            who.actor,
            "export.request",
            f"round:{round_id}",
            {"request_id": str(request_id)},
            remote_addr,
        )
    return request_id


async def note_export_status(conn: asyncpg.Connection, event: Envelope[ExportStatus]) -> None:
    """Show the export's state to operators (intake's read model)."""
    await repository.record_export_status(conn, event.data)


async def round_exports(pool: asyncpg.Pool, round_id: str) -> dict[str, Any]:
    async with pool.acquire() as conn:
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        return await repository.round_exports(conn, round_id)
