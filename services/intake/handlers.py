"""Intake use cases."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters import announcements, audit, repository, versions
from services.intake.adapters.round_book import RoundBook
from services.intake.adapters.versions import VersionWriter
from services.intake.domain.completeness import CenterState, CompletenessReport, completeness
from services.intake.domain.principals import Principal
from services.intake.domain.rounds import Round, Window, date_problems
from services.intake.domain.submissions import Report, SubmissionRefused, accept, receipt
from shared.events import (
    Envelope,
    ExportRequested,
    ExportStatus,
    SubmissionScored,
    new_event,
)
from shared.messaging.outbox import enqueue
from shared.topics import Topic

SERVICE = "intake"


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different body."""


class NotFound(Exception):
    pass


class InvalidRequest(ValueError):
    """Input that is well-formed but wrong here; ``errors`` are (field, reason) pairs."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {reason}" for field, reason in errors))
        self.errors = errors


@dataclass(frozen=True)
class Answer:
    """The receipt of a submission; ``replayed`` when it answers a repeated request."""

    body: dict[str, Any]
    replayed: bool = False


# A round's dates can change between reading them and writing; read again this often.
ATTEMPTS = 3


async def submit(
    pool: asyncpg.Pool, rounds: RoundBook, writes: VersionWriter, request: Report
) -> Answer:
    """Store a new version of the center's submission with its event, Idempotency-Key and
    audit entry (one statement, batched with the others waiting: ``versions``); a repeated
    Idempotency-Key gets the first answer again.

    The acceptance rules read the round from a short cache; a refusal, an unknown round or
    dates that changed meanwhile are decided again on the round read afresh."""
    round_id = request.body.round_id
    for attempt in range(ATTEMPTS):
        terms = await rounds.terms(pool, round_id, fresh=attempt > 0)
        if terms is None:
            refusal = SubmissionRefused(
                "round_not_found", f"no round {round_id}", f"ไม่พบรอบ {round_id}"
            )
            if attempt > 0:
                return await _replay(pool, request, refusal)
            continue
        try:
            acceptance = accept(
                terms.round, request.received_at, terms.extension_until(request.center_id)
            )
        except SubmissionRefused as refusal:
            if attempt > 0:
                return await _replay(pool, request, refusal)
            continue
        outcome = await writes.write(pool, versions.NewVersion.of(request, terms, acceptance))
        if outcome.replay:
            return await _replay(pool, request)
        if not outcome.stale:
            assert outcome.submission_id and outcome.version and outcome.receipt_number
            return Answer(
                receipt(
                    outcome.submission_id,
                    outcome.version,
                    outcome.receipt_number,
                    round_id,
                    request.received_at,
                    acceptance,
                )
            )
    raise RoundChanging(round_id)


class RoundChanging(Exception):
    """The round's dates changed under every attempt to write (an operator is moving them)."""


async def _replay(
    pool: asyncpg.Pool, request: Report, otherwise: Exception | None = None
) -> Answer:
    """The first answer to this Idempotency-Key; ``otherwise`` raised when it is new."""
    earlier = await versions.earlier_answer(pool, request.center_id, request.idempotency_key)
    if earlier is None:
        assert otherwise is not None, "a replayed key that was never stored"
        raise otherwise
    request_hash, answer = earlier
    if request_hash != request.fingerprint:
        raise IdempotencyKeyReused(request.idempotency_key)
    return Answer(answer, replayed=True)


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
        problems = date_problems(current, **updated)
        if problems:
            raise InvalidRequest(problems)
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
    now: datetime,
) -> None:
    """Let one center submit after the round closed, until ``until`` (audited)."""
    if until <= now:
        raise InvalidRequest([("until", f"lies in the past (now is {now.isoformat()})")])
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
