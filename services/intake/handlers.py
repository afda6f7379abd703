"""Intake use cases."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters import announcements, audit, repository
from services.intake.adapters.audit import AuditEntry
from services.intake.domain.completeness import CenterState, CompletenessReport, completeness
from services.intake.domain.principals import Principal
from services.intake.domain.rounds import Round, Window
from services.intake.domain.submissions import SubmissionRefused, accept, receipt_number
from shared.events import (
    Envelope,
    ExportRequested,
    ExportStatus,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.messaging.outbox import enqueue, outbox_values
from shared.submission import SubmissionBody
from shared.topics import Topic

SERVICE = "intake"


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different body."""


class NotFound(Exception):
    pass


class InvalidRoundDates(ValueError):
    pass


@dataclass(frozen=True)
class Answer:
    """The receipt of a submission; ``replayed`` when it answers a repeated request."""

    body: dict[str, Any]
    replayed: bool = False


async def submit(
    pool: asyncpg.Pool,
    center_id: str,
    body: SubmissionBody,
    raw_body: bytes,
    idempotency_key: str,
    remote_addr: str,
    received_at: datetime,
) -> Answer:
    """Store a new version of the center's submission, its event and its audit entry in one
    transaction; a repeated Idempotency-Key gets the first answer again."""
    fingerprint = hashlib.sha256(raw_body).digest()
    async with pool.acquire() as conn, conn.transaction():
        started = await repository.start_version(
            conn, center_id, idempotency_key, fingerprint, body.round_id
        )
        if not started["claimed"]:
            earlier = await repository.earlier_request(conn, center_id, idempotency_key)
            if bytes(earlier["request_hash"]) != fingerprint:
                raise IdempotencyKeyReused(idempotency_key)
            return Answer(earlier["response"], replayed=True)
        round_ = repository.round_of(started)
        if round_ is None:
            raise SubmissionRefused(
                "round_not_found", f"no round {body.round_id}", f"ไม่พบรอบ {body.round_id}"
            )
        acceptance = accept(round_, received_at, started["extension_until"])
        submission_id: UUID = started["submission_id"]
        version: int = started["version"]
        received = SubmissionReceived(
            submission_id=submission_id,
            version=version,
            receipt_number=receipt_number(round_.id, center_id, version),
            center_id=center_id,
            round_id=round_.id,
            received_at=received_at,
            late=acceptance.late,
            satisfaction=body.satisfaction,
            checklist=body.checklist,
        )
        event = new_event(received, producer=SERVICE, occurred_at=received_at)
        answer = {
            "submission_id": str(submission_id),
            "version": version,
            "receipt_number": received.receipt_number,
            "round_id": round_.id,
            "received_at": received_at.isoformat(),
            "late": acceptance.late,
            "extension": acceptance.extension,
            "status": "received",
        }
        await repository.store_version(
            conn,
            repository.NewVersion(
                center_id=center_id,
                idempotency_key=idempotency_key,
                submission_id=submission_id,
                version=version,
                receipt_number=received.receipt_number,
                received_at=received_at,
                late=acceptance.late,
                extension=acceptance.extension,
                body=raw_body.decode(),
                answer=answer,
                event=outbox_values(Topic.SUBMISSION_RECEIVED, center_id, event),
                audit=AuditEntry(
                    f"center:{center_id}",
                    "submission.create",
                    f"submission:{submission_id}/v{version}",
                    {
                        "round_id": round_.id,
                        "late": acceptance.late,
                        "extension": acceptance.extension,
                    },
                    remote_addr,
                ),
            ),
        )
    return Answer(answer)


async def note_score(conn: asyncpg.Connection, event: Envelope[SubmissionScored]) -> None:
    """Show the score on the submission version (intake's read model)."""
    await repository.record_score(conn, event.data)


async def find_submission(pool: asyncpg.Pool, submission_id: UUID) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        return await repository.get_submission(conn, submission_id)


async def find_own_submission(
    pool: asyncpg.Pool, center_id: str, round_id: str
) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        submission_id = await repository.own_submission_id(conn, center_id, round_id)
        return (
            None if submission_id is None else await repository.get_submission(conn, submission_id)
        )


async def change_round_dates(
    pool: asyncpg.Pool,
    who: Principal,
    round_id: str,
    changes: dict[str, datetime],
    remote_addr: str,
    now: datetime,
) -> Round:
    """Move a round's dates before it closes; audited with the old and new dates."""
    async with pool.acquire() as conn, conn.transaction():
        current = await repository.lock_round(conn, round_id)
        if current is None:
            raise NotFound(round_id)
        if current.window(now) is Window.CLOSED:
            raise SubmissionRefused(
                "round_closed",
                f"round {round_id} is closed; its dates can no longer change",
                f"รอบ {round_id} ปิดแล้ว เปลี่ยนกำหนดการไม่ได้",
            )
        dates = {k: getattr(current, k) for k in ("opens_at", "due_at", "closes_at")}
        updated = {**dates, **changes}
        if not updated["opens_at"] < updated["due_at"] <= updated["closes_at"]:
            raise InvalidRoundDates("dates must satisfy opens_at < due_at <= closes_at")
        await repository.change_round_dates(conn, round_id, **updated)
        await audit.record(
            conn,
            who.actor,
            "round.change_dates",
            f"round:{round_id}",
            {
                "before": {k: v.isoformat() for k, v in dates.items()},
                "after": {k: v.isoformat() for k, v in updated.items()},
            },
            remote_addr,
        )
        changed = await repository.get_round(conn, round_id)
        assert changed is not None
        await announcements.announce_rounds(conn, [changed])
    return changed


async def grant_extension(
    pool: asyncpg.Pool,
    who: Principal,
    round_id: str,
    center_id: str,
    until: datetime,
    reason: str,
    remote_addr: str,
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        if await repository.center_office_path(conn, center_id) is None:
            raise NotFound(center_id)
        await repository.grant_extension(conn, round_id, center_id, until, reason, who.actor)
        await audit.record(
            conn,
            who.actor,
            "extension.grant",
            f"round:{round_id}/center:{center_id}",
            {"until": until.isoformat(), "reason": reason},
            remote_addr,
        )


async def round_completeness(pool: asyncpg.Pool, round_id: str, scope: str) -> CompletenessReport:
    async with pool.acquire() as conn:
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        rows = await repository.round_center_states(conn, round_id, scope)
    return completeness((CenterState(**dict(r)) for r in rows), scope)


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
