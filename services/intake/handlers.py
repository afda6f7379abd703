"""Intake use cases."""

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters import announcements, audit, repository, submission_store
from services.intake.adapters.audit import AuditEntry
from services.intake.adapters.submission_store import RoundBook, RoundTerms
from services.intake.adapters.version_batches import VersionWriter
from services.intake.domain.completeness import CenterState, CompletenessReport, completeness
from services.intake.domain.principals import Principal
from services.intake.domain.rounds import Round, Window, date_problems
from services.intake.domain.submissions import (
    Acceptance,
    SubmissionRefused,
    accept,
    receipt_number,
    receipt_prefix,
)
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


async def submit(
    pool: asyncpg.Pool,
    rounds: RoundBook,
    writes: VersionWriter,
    center_id: str,
    body: SubmissionBody,
    raw_body: bytes,
    idempotency_key: str,
    remote_addr: str,
    received_at: datetime,
) -> Answer:
    """Store a new version of the center's submission, its event and its audit entry
    atomically; a repeated Idempotency-Key gets the first answer again.

    Accepted in one statement against the cached round (``submission_store``, together
    with the others waiting: ``version_batches``); refused, unknown or changed rounds take
    the transaction that reads them first."""
    request = Request(center_id, body, raw_body, hashlib.sha256(raw_body).digest(), idempotency_key)
    terms = await rounds.terms(pool, body.round_id)
    if terms is not None:
        answer = await _submit_in_one_statement(
            pool, rounds, writes, terms, request, remote_addr, received_at
        )
        if answer is not None:
            return answer
    return await _submit_in_transaction(pool, request, remote_addr, received_at)


@dataclass(frozen=True)
class Request:
    center_id: str
    body: SubmissionBody
    raw_body: bytes
    fingerprint: bytes
    idempotency_key: str


async def _submit_in_one_statement(
    pool: asyncpg.Pool,
    rounds: RoundBook,
    writes: VersionWriter,
    terms: RoundTerms,
    request: Request,
    remote_addr: str,
    received_at: datetime,
) -> Answer | None:
    """None when the cached round cannot decide: a refusal (confirmed by the transaction,
    which reads the round itself) or dates and extensions that changed meanwhile (then
    the cache reads them again next time)."""
    round_ = terms.round
    try:
        acceptance = accept(round_, received_at, terms.extension_until(request.center_id))
    except SubmissionRefused:
        return None
    new = fast_version(request, terms, acceptance, remote_addr, received_at)
    try:
        outcome = await writes.store(pool, new)
    except asyncpg.UniqueViolationError:  # the same key, committed a moment ago
        return await _replay(pool, request)
    if outcome.replay:
        return await _replay(pool, request)
    if outcome.stale:
        rounds.forget(round_.id)
        return None
    assert outcome.submission_id and outcome.version and outcome.receipt_number
    return Answer(
        submission_store.receipt(
            outcome.submission_id,
            outcome.version,
            outcome.receipt_number,
            round_.id,
            received_at,
            acceptance.late,
            acceptance.extension,
        )
    )


def fast_version(
    request: Request,
    terms: RoundTerms,
    acceptance: Acceptance,
    remote_addr: str,
    received_at: datetime,
) -> submission_store.FastVersion:
    """What the one-statement write needs for an accepted request."""
    center_id, round_ = request.center_id, terms.round
    # The statement replaces the id (for an amendment), the version and the receipt number.
    received = _received_event(request, uuid4(), 1, round_.id, received_at, acceptance.late)
    event = new_event(received, producer=SERVICE, occurred_at=received_at)
    payload_head, payload_tail = submission_store.payload_around_version(
        event.model_dump_json(), received.submission_id, received.receipt_number
    )
    return submission_store.FastVersion(
        center_id=center_id,
        idempotency_key=request.idempotency_key,
        request_hash=request.fingerprint,
        round=round_,
        extension_until=terms.extension_until(center_id),
        new_submission_id=received.submission_id,
        receipt_prefix=receipt_prefix(round_.id, center_id),
        received_at=received_at,
        late=acceptance.late,
        extension=acceptance.extension,
        body=request.raw_body.decode(),
        event_id=event.event_id,
        topic=Topic.SUBMISSION_RECEIVED.value,
        payload_head=payload_head,
        payload_tail=payload_tail,
        audit=_audit(center_id, round_.id, acceptance, remote_addr),
    )


async def _replay(pool: asyncpg.Pool | asyncpg.Connection, request: Request) -> Answer:
    earlier = await submission_store.earlier_answer(
        pool, request.center_id, request.idempotency_key
    )
    assert earlier is not None
    request_hash, answer = earlier
    if request_hash != request.fingerprint:
        raise IdempotencyKeyReused(request.idempotency_key)
    return Answer(answer, replayed=True)


def _received_event(
    request: Request,
    submission_id: UUID,
    version: int,
    round_id: str,
    received_at: datetime,
    late: bool,
) -> SubmissionReceived:
    return SubmissionReceived(
        submission_id=submission_id,
        version=version,
        receipt_number=receipt_number(round_id, request.center_id, version),
        center_id=request.center_id,
        round_id=round_id,
        received_at=received_at,
        late=late,
        satisfaction=request.body.satisfaction,
        checklist=request.body.checklist,
    )


def _audit(center_id: str, round_id: str, acceptance: Acceptance, remote_addr: str) -> AuditEntry:
    """The submission's audit entry; its target (``submission:<id>/v<n>``) is set where the
    version is known."""
    return AuditEntry(
        f"center:{center_id}",
        "submission.create",
        "",
        {"round_id": round_id, "late": acceptance.late, "extension": acceptance.extension},
        remote_addr,
    )


async def _submit_in_transaction(
    pool: asyncpg.Pool, request: Request, remote_addr: str, received_at: datetime
) -> Answer:
    center_id, body = request.center_id, request.body
    async with pool.acquire() as conn, conn.transaction():
        started = await repository.start_version(
            conn, center_id, request.idempotency_key, request.fingerprint, body.round_id
        )
        if not started["claimed"]:
            return await _replay(conn, request)
        round_ = repository.round_of(started)
        if round_ is None:
            raise SubmissionRefused(
                "round_not_found", f"no round {body.round_id}", f"ไม่พบรอบ {body.round_id}"
            )
        acceptance = accept(round_, received_at, started["extension_until"])
        submission_id: UUID = started["submission_id"]
        version: int = started["version"]
        received = _received_event(
            request, submission_id, version, round_.id, received_at, acceptance.late
        )
        event = new_event(received, producer=SERVICE, occurred_at=received_at)
        audit_entry = _audit(center_id, round_.id, acceptance, remote_addr)
        await repository.store_version(
            conn,
            repository.NewVersion(
                center_id=center_id,
                idempotency_key=request.idempotency_key,
                submission_id=submission_id,
                version=version,
                receipt_number=received.receipt_number,
                received_at=received_at,
                late=acceptance.late,
                extension=acceptance.extension,
                body=request.raw_body.decode(),
                event=outbox_values(Topic.SUBMISSION_RECEIVED, center_id, event),
                audit=replace(audit_entry, target=f"submission:{submission_id}/v{version}"),
            ),
        )
    return Answer(
        submission_store.receipt(
            submission_id,
            version,
            received.receipt_number,
            round_.id,
            received_at,
            acceptance.late,
            acceptance.extension,
        )
    )


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
