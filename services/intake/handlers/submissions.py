"""Submissions: accept a center's report, show it with its scores."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.adapters import evidence, repository, versions
from services.intake.adapters.round_book import RoundBook
from services.intake.adapters.versions import VersionWriter
from services.intake.domain.evidence import EvidenceLimits, version_file_errors
from services.intake.domain.submissions import Report, SubmissionRefused, accept, receipt
from services.intake.handlers.errors import InvalidRequest
from services.intake.handlers.survey import check_claim
from shared.events import Envelope, SubmissionScored


class IdempotencyKeyReused(Exception):
    """The same Idempotency-Key came with a different body."""


@dataclass(frozen=True)
class Answer:
    """The receipt of a submission; ``replayed`` when it answers a repeated request."""

    body: dict[str, Any]
    replayed: bool = False


# A round's dates can change between reading them and writing; read again this often.
ATTEMPTS = 3


async def submit(
    pool: asyncpg.Pool,
    rounds: RoundBook,
    writes: VersionWriter,
    request: Report,
    limits: EvidenceLimits,
) -> Answer:
    """Store a new version of the center's submission with its event, Idempotency-Key and
    audit entry (one statement, batched with the others waiting: ``versions``); a repeated
    Idempotency-Key gets the first answer again.

    The acceptance rules read the round from a short cache; a refusal, an unknown round or
    dates that changed meanwhile are decided again on the round read afresh.

    Evidence files the report lists are checked first (one query, only when it lists any):
    each must be the center's, the round's and that item's; so are the citizen survey's
    responses it claims, if it takes its figures from the survey (one query, only then)."""
    round_id = request.body.round_id
    await _check_files(pool, request, limits)
    await check_claim(pool, request.center_id, request.body)
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
        try:
            outcome = await writes.write(pool, versions.NewVersion.of(request, terms, acceptance))
        except asyncpg.ForeignKeyViolationError:  # a listed file was deleted since the check
            raise InvalidRequest(
                [("checklist.items", "a file listed was deleted meanwhile; list it again")]
            ) from None
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


async def _check_files(pool: asyncpg.Pool, request: Report, limits: EvidenceLimits) -> None:
    items = [(item.code, item.files) for item in request.body.checklist.items]
    ids = [file_id for _, files in items for file_id in files]
    if not ids:
        return
    async with pool.acquire() as conn:
        known = await evidence.stored_files(conn, ids)
    errors = version_file_errors(request.center_id, request.body.round_id, items, known, limits)
    if errors:
        raise InvalidRequest(errors)


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


async def find_version(
    pool: asyncpg.Pool, submission_id: UUID, version: int
) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        return await repository.get_version(conn, submission_id, version)


async def find_own_submission(
    pool: asyncpg.Pool, center_id: str, round_id: str
) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        submission_id = await repository.own_submission_id(conn, center_id, round_id)
        return (
            None if submission_id is None else await repository.get_submission(conn, submission_id)
        )
