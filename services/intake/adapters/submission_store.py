"""A submission version in one statement, one round trip to PostgreSQL.

Every center calls this, and on this kind of VM each round trip is a large part of a
request's cost (docs/benchmarks.md). The acceptance rules need the round's dates and any
extension before the version is written, so they are read from a short-lived cache
(``RoundBook``) and the statement writes only if the database still holds exactly those
dates and that extension; otherwise it writes nothing and says ``stale``, and the caller
takes the two-statement path, which reads them inside its transaction.
"""

import json
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.adapters import repository
from services.intake.adapters.audit import AUDIT_INSERT, AuditEntry
from services.intake.domain.rounds import Round
from shared.messaging.outbox import OUTBOX_INSERT


@dataclass(frozen=True)
class RoundTerms:
    """A round and the extensions granted in it, as read at ``read_at`` (monotonic)."""

    round: Round
    extensions: dict[str, datetime]
    read_at: float

    def extension_until(self, center_id: str) -> datetime | None:
        return self.extensions.get(center_id)


class RoundBook:
    """Rounds and their extensions, read again after ``ttl`` seconds. A stale entry costs
    one refused fast write, never a wrong acceptance: the statement checks them."""

    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._terms: dict[str, RoundTerms] = {}

    async def terms(self, pool: asyncpg.Pool, round_id: str) -> RoundTerms | None:
        cached = self._terms.get(round_id)
        if cached is not None and time.monotonic() - cached.read_at < self._ttl:
            return cached
        async with pool.acquire() as conn:
            round_ = await repository.get_round(conn, round_id)
            if round_ is None:
                self._terms.pop(round_id, None)
                return None
            granted = await conn.fetch(
                "SELECT center_id, until FROM extensions WHERE round_id = $1", round_id
            )
        terms = RoundTerms(round_, {g["center_id"]: g["until"] for g in granted}, time.monotonic())
        self._terms[round_id] = terms
        return terms

    def forget(self, round_id: str) -> None:
        self._terms.pop(round_id, None)


@dataclass(frozen=True)
class FastVersion:
    """What the statement needs besides the version it takes. The event's payload comes in
    two parts (``payload_around_version``), between which the statement writes the
    submission id, version and receipt number it took; the receipt number is
    ``receipt_prefix`` + version."""

    center_id: str
    idempotency_key: str
    request_hash: bytes
    round: Round
    extension_until: datetime | None
    new_submission_id: UUID
    receipt_prefix: str
    received_at: datetime
    late: bool
    extension: bool
    body: str
    event_id: UUID
    topic: str
    payload_head: str
    payload_tail: str
    audit: AuditEntry

    def values(self) -> tuple[Any, ...]:
        """The statement's parameters, in the order of ``STORE`` ($1…$22) and of
        ``version_batches.COLUMNS``."""
        r = self.round
        actor, action, _, details, remote_addr = self.audit.values()
        return (
            r.id,
            r.opens_at,
            r.due_at,
            r.closes_at,
            self.center_id,
            self.extension_until,
            self.idempotency_key,
            self.new_submission_id,
            self.receipt_prefix,
            self.received_at,
            self.late,
            self.extension,
            self.body,
            self.request_hash,
            self.event_id,
            self.topic,
            self.payload_head,
            self.payload_tail,
            actor,
            action,
            details,
            remote_addr,
        )


@dataclass(frozen=True)
class FastOutcome:
    replay: bool
    stale: bool
    submission_id: UUID | None
    version: int | None
    receipt_number: str | None


STORE = f"""
WITH round AS (
    SELECT id FROM rounds
    WHERE id = $1 AND opens_at = $2 AND due_at = $3 AND closes_at = $4
      AND (SELECT until FROM extensions WHERE round_id = $1 AND center_id = $5)
          IS NOT DISTINCT FROM $6::timestamptz
), earlier AS (
    SELECT true AS found FROM idempotency_keys WHERE center_id = $5 AND idempotency_key = $7
), version AS (
    INSERT INTO submissions (id, center_id, round_id, latest_version)
    SELECT $8, $5, round.id, 1 FROM round WHERE NOT EXISTS (SELECT FROM earlier)
    ON CONFLICT (center_id, round_id)
    DO UPDATE SET latest_version = submissions.latest_version + 1
    RETURNING id, latest_version, $9::text || latest_version::text AS receipt_number
), stored AS (
    INSERT INTO submission_versions
        (submission_id, version, receipt_number, received_at, late, extension, body)
    SELECT id, latest_version, receipt_number, $10, $11, $12, $13::text::jsonb FROM version
), key AS (
    INSERT INTO idempotency_keys
        (center_id, idempotency_key, request_hash, submission_id, version)
    SELECT $5, $7, $14, id, latest_version FROM version
), event AS (
    {OUTBOX_INSERT}
    SELECT $15, $16, $5, convert_to($17 || '"submission_id":"' || id
        || '","version":' || latest_version
        || ',"receipt_number":' || to_json(receipt_number)::text || $18, 'UTF8')
    FROM version
), audit AS (
    {AUDIT_INSERT}
    SELECT $19, $20, 'submission:' || id || '/v' || latest_version, $21::text::jsonb, $22
    FROM version
)
SELECT EXISTS (SELECT FROM earlier) AS replay, version.id AS submission_id,
       version.latest_version AS version, version.receipt_number
FROM (SELECT 1) AS one LEFT JOIN version ON true
"""


async def store(pool: asyncpg.Pool, new: FastVersion) -> FastOutcome:
    """Write the version, its event, its Idempotency-Key and its audit entry, atomically.
    A racing request with the same key makes this raise ``UniqueViolationError`` (nothing
    written); ``replay`` when the key was used before; ``stale`` when the round's dates or
    the extension are no longer the ones given."""
    row = await pool.fetchrow(STORE, *new.values())
    assert row is not None
    replay = bool(row["replay"])
    return FastOutcome(
        replay=replay,
        stale=not replay and row["submission_id"] is None,
        submission_id=row["submission_id"],
        version=row["version"],
        receipt_number=row["receipt_number"],
    )


def payload_around_version(
    payload: str, submission_id: UUID, receipt_number: str
) -> tuple[str, str]:
    """The text of a submission-received event before and after its leading
    ``"submission_id":…,"version":1,"receipt_number":…`` fields (serialized in that order,
    once: the id is new), so that the statement can put in the values it took by
    concatenating text; through ``jsonb`` that cost PostgreSQL about 0.1 ms a submission."""
    written = f'"submission_id":"{submission_id}","version":1,"receipt_number":' + json.dumps(
        receipt_number, ensure_ascii=False
    )
    start = payload.find(written)
    if start < 0:
        raise ValueError(f"no {written} in the event's payload")
    return payload[:start], payload[start + len(written) :]


async def earlier_answer(
    conn: asyncpg.Connection | asyncpg.Pool, center_id: str, key: str
) -> tuple[bytes, dict[str, Any]] | None:
    """The request hash and the answer of an earlier request with this key, if any."""
    row = await conn.fetchrow(
        """
        SELECT k.request_hash, k.response, v.submission_id, v.version, v.receipt_number,
               s.round_id, v.received_at, v.late, v.extension
        FROM idempotency_keys k
        LEFT JOIN submission_versions v
            ON v.submission_id = k.submission_id AND v.version = k.version
        LEFT JOIN submissions s ON s.id = k.submission_id
        WHERE k.center_id = $1 AND k.idempotency_key = $2
        """,
        center_id,
        key,
    )
    if row is None:
        return None
    if row["response"] is not None:  # written before migration 005
        return bytes(row["request_hash"]), dict(row["response"])
    return bytes(row["request_hash"]), receipt(
        row["submission_id"],
        row["version"],
        row["receipt_number"],
        row["round_id"],
        row["received_at"],
        row["late"],
        row["extension"],
    )


def receipt(
    submission_id: UUID,
    version: int,
    receipt_number: str,
    round_id: str,
    received_at: datetime,
    late: bool,
    extension: bool,
) -> dict[str, Any]:
    """The answer to an accepted submission (and to every repetition of its request)."""
    return {
        "submission_id": str(submission_id),
        "version": version,
        "receipt_number": receipt_number,
        "round_id": round_id,
        "received_at": received_at.isoformat(),
        "late": late,
        "extension": extension,
        "status": "received",
    }
