"""Submission versions written in batches: one statement and one commit for the versions that
arrived while the previous batch was being written; a lone version is a batch of one.

Under load most of a write is the statement's fixed cost (a round trip, the executor's
set-up for six tables, the commit), not its rows (docs/benchmarks.md), so the writer groups
whatever is waiting when it is free ("natural batching": no timer, a lone request is
written at once). Each version still gets its own outcome:

- written: its submission id, version and receipt number, with its row, its event in the
  outbox, its Idempotency-Key and its audit entry, all in the batch's one transaction;
- stale: the round's dates or the center's extension are no longer the ones it was accepted
  against (nothing written; the caller reads them again);
- replay: its Idempotency-Key was used before (nothing written).

Two versions of one center are never in the same batch or in two batches at once, so a
batch never updates a row twice and a center's versions keep their order. A batch that
fails for any reason (a key used before or by another process a moment ago, a deadlock, a
value one request carries that the database refuses) is written again version by version,
so that only the version at fault sees its error.
"""

import asyncio
import json
import typing
from collections import deque
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters.audit import AUDIT_INSERT
from services.intake.adapters.round_book import RoundTerms
from services.intake.domain.submissions import Acceptance, Report, receipt, receipt_prefix
from shared.events import SubmissionReceived
from shared.messaging.outbox import OUTBOX_INSERT
from shared.topics import Topic

PRODUCER = "intake"

Connection: typing.TypeAlias = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True)
class NewVersion:
    """One version as the statement takes it: each field is a column of its ``unnest``."""

    # The round's dates and the center's extension the version was accepted against.
    round_id: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    extension_until: datetime | None
    center_id: str
    idempotency_key: str
    request_hash: bytes
    # The submission's id if this is the center's first version in the round.
    new_submission_id: UUID
    # The receipt number is this and the version number the statement takes.
    receipt_prefix: str
    received_at: datetime
    late: bool
    extension: bool
    # The report as the center sent it (JSON text, validated); stored, and in the event.
    body: str
    event_id: UUID
    event_type: str
    event_schema_version: int
    producer: str
    topic: str
    actor: str
    action: str
    details: str
    remote_addr: str
    # The evidence files it references: [{"file_id", "item_code"}] as JSON text, "" for none.
    files: str = ""

    @classmethod
    def of(cls, report: Report, terms: RoundTerms, acceptance: Acceptance) -> "NewVersion":
        center_id, round_ = report.center_id, terms.round
        references = [
            {"file_id": str(file_id), "item_code": item.code}
            for item in report.body.checklist.items
            for file_id in item.files
        ]
        audit_details = {
            "round_id": round_.id,
            "late": acceptance.late,
            "extension": acceptance.extension,
        }
        return cls(
            round_id=round_.id,
            opens_at=round_.opens_at,
            due_at=round_.due_at,
            closes_at=round_.closes_at,
            extension_until=terms.extension_until(center_id),
            center_id=center_id,
            idempotency_key=report.idempotency_key,
            request_hash=report.fingerprint,
            new_submission_id=uuid4(),
            receipt_prefix=receipt_prefix(round_.id, center_id),
            received_at=report.received_at,
            late=acceptance.late,
            extension=acceptance.extension,
            body=report.raw_body.decode(),
            event_id=uuid4(),
            event_type=SubmissionReceived.event_type.value,
            event_schema_version=SubmissionReceived.schema_version,
            producer=PRODUCER,
            topic=Topic.SUBMISSION_RECEIVED.value,
            actor=report.actor,
            action="submission.create",
            details=json.dumps(audit_details),
            remote_addr=report.remote_addr,
            files=json.dumps(references) if references else "",
        )


SQL_TYPES = {
    str: "text",
    datetime: "timestamptz",
    datetime | None: "timestamptz",
    bytes: "bytea",
    UUID: "uuid",
    bool: "bool",
    int: "int",
}
COLUMNS = [
    (f.name, SQL_TYPES[typing.get_type_hints(NewVersion)[f.name]]) for f in fields(NewVersion)
]
_ARRAYS = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(COLUMNS, start=1))
_NAMES = ", ".join(name for name, _ in COLUMNS)

# The files a version references, as the event carries them (EvidenceFile), in the
# report's order; and their references, stored with the version. Only in the statement of a
# batch that references any: a report without files costs nothing more.
EVIDENCE = """(
    SELECT coalesce(json_agg(json_build_object(
        'file_id', f.id, 'item_code', f.item_code, 'name', f.name,
        'content_type', f.content_type, 'size', f.size, 'sha256', f.sha256) ORDER BY r.k), '[]')
    FROM json_array_elements(nullif(taken.files, '')::json) WITH ORDINALITY AS r(ref, k)
    JOIN evidence_files f ON f.id = (r.ref ->> 'file_id')::uuid)"""
REFERENCES = """, refs AS (
    INSERT INTO version_evidence (submission_id, version, file_id, item_code)
    SELECT t.submission_id, t.version, (r ->> 'file_id')::uuid, r ->> 'item_code'
    FROM taken t, json_array_elements(nullif(t.files, '')::json) AS r
)"""


# Each row checked against its round's dates and extension, then written; the rows come
# back in the given order. The event is built from the row's values, the report's parts
# taken from the stored body, its satisfaction always with its source (the center's own
# survey when the report names none); the version's row keeps the source's kind and
# responses beside the report, for the reads that list versions and centers. An
# Idempotency-Key used before fails the statement on the key's unique index (looking the
# keys up here let PostgreSQL cache a plan that hashed all of idempotency_keys for every
# batch: slower and slower as a round went on).
def _store(with_files: bool) -> str:
    return f"""
WITH item AS (
    SELECT i.*, i.body::jsonb AS report
    FROM unnest({_ARRAYS}) WITH ORDINALITY AS i({_NAMES}, n)
), checked AS (
    SELECT item.*,
        EXISTS (SELECT FROM rounds r
                WHERE r.id = item.round_id AND r.opens_at = item.opens_at
                  AND r.due_at = item.due_at AND r.closes_at = item.closes_at
                  AND (SELECT until FROM extensions e
                       WHERE e.round_id = item.round_id AND e.center_id = item.center_id)
                      IS NOT DISTINCT FROM item.extension_until) AS current
    FROM item
), version AS (
    INSERT INTO submissions (id, center_id, round_id, latest_version)
    SELECT new_submission_id, center_id, round_id, 1 FROM checked WHERE current
    ORDER BY center_id, round_id
    ON CONFLICT (center_id, round_id)
    DO UPDATE SET latest_version = submissions.latest_version + 1
    RETURNING id, center_id, round_id, latest_version
), taken AS (
    SELECT c.*, v.id AS submission_id, v.latest_version AS version,
           c.receipt_prefix || v.latest_version AS receipt_number,
           coalesce(c.report -> 'satisfaction' -> 'source',
                    jsonb_build_object('kind', 'center_survey')) AS source
    FROM checked c JOIN version v ON v.center_id = c.center_id AND v.round_id = c.round_id
), stored AS (
    INSERT INTO submission_versions
        (submission_id, version, receipt_number, received_at, late, extension, body,
         satisfaction_source, survey_responses)
    SELECT submission_id, version, receipt_number, received_at, late, extension, report,
           source ->> 'kind', (source ->> 'responses')::int
    FROM taken
), key AS (
    INSERT INTO idempotency_keys
        (center_id, idempotency_key, request_hash, submission_id, version)
    SELECT center_id, idempotency_key, request_hash, submission_id, version FROM taken
), event AS (
    {OUTBOX_INSERT}
    SELECT event_id, topic, center_id, convert_to(json_build_object(
        'event_id', event_id, 'event_type', event_type, 'occurred_at', received_at,
        'producer', producer, 'schema_version', event_schema_version,
        'data', json_build_object(
            'submission_id', submission_id, 'version', version,
            'receipt_number', receipt_number, 'center_id', center_id,
            'round_id', round_id, 'received_at', received_at, 'late', late,
            'satisfaction', (report -> 'satisfaction') || jsonb_build_object('source', source),
            'checklist', report -> 'checklist',
            'evidence', {EVIDENCE if with_files else "'[]'::json"}
        ))::text, 'UTF8')
    FROM taken ORDER BY n
){REFERENCES if with_files else ""}, audit AS (
    {AUDIT_INSERT}
    SELECT actor, action, 'submission:' || submission_id || '/v' || version, details::jsonb,
           remote_addr
    FROM taken ORDER BY n
)
SELECT t.submission_id, t.version, t.receipt_number
FROM checked c LEFT JOIN taken t ON t.n = c.n
ORDER BY c.n
"""


STORE = _store(with_files=False)
STORE_WITH_FILES = _store(with_files=True)


@dataclass(frozen=True)
class Outcome:
    replay: bool = False
    stale: bool = False
    submission_id: UUID | None = None
    version: int | None = None
    receipt_number: str | None = None


REPLAY = Outcome(replay=True)


def _columns(versions: list[NewVersion]) -> list[list[Any]]:
    return [[getattr(new, name) for new in versions] for name, _ in COLUMNS]


async def store(conn: Connection, versions: list[NewVersion]) -> list[Outcome]:
    """Write versions of distinct centers with new Idempotency-Keys in one statement: all
    written (or stale), or, on any error, none."""
    statement = STORE_WITH_FILES if any(v.files for v in versions) else STORE
    rows = await conn.fetch(statement, *_columns(versions))
    return [
        Outcome(
            stale=row["submission_id"] is None,
            submission_id=row["submission_id"],
            version=row["version"],
            receipt_number=row["receipt_number"],
        )
        for row in rows
    ]


async def store_one(conn: Connection, version: NewVersion) -> Outcome:
    """``store`` for one version; a key used before is a replay, not an error."""
    try:
        return (await store(conn, [version]))[0]
    except asyncpg.UniqueViolationError:
        return REPLAY


@dataclass
class _Waiting:
    version: NewVersion
    outcome: asyncio.Future[Outcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class VersionWriter:
    """Writes versions ``max_batch`` at a time and ``max_in_flight`` batches at once (each
    holds a pool connection while it runs)."""

    def __init__(self, max_batch: int = 64, max_in_flight: int = 1) -> None:
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._waiting: deque[_Waiting] = deque()
        self._centers_in_flight: set[str] = set()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def write(self, pool: asyncpg.Pool, version: NewVersion) -> Outcome:
        waiting = _Waiting(version)
        self._waiting.append(waiting)
        self._start(pool)
        return await waiting.outcome

    def _start(self, pool: asyncpg.Pool) -> None:
        while self._in_flight < self._max_in_flight:
            batch = self._take()
            if not batch:
                return
            self._in_flight += 1
            task = asyncio.create_task(self._write(pool, batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> list[_Waiting]:
        """The oldest waiting versions, at most one per center and none of a center whose
        version is being written; the others keep their places."""
        batch: list[_Waiting] = []
        skipped: list[_Waiting] = []
        centers = self._centers_in_flight
        while self._waiting and len(batch) < self._max_batch:
            waiting = self._waiting.popleft()
            center = waiting.version.center_id
            if center in centers:
                skipped.append(waiting)
            else:
                centers.add(center)
                batch.append(waiting)
        self._waiting.extendleft(reversed(skipped))
        batch.sort(key=lambda w: (w.version.center_id, w.version.round_id))
        return batch

    async def _write(self, pool: asyncpg.Pool, batch: list[_Waiting]) -> None:
        try:
            if len(batch) == 1:
                await _settle_alone(pool, batch[0])
            else:
                await _settle_together(pool, batch)
        finally:
            for waiting in batch:
                _fail(waiting, ConnectionAbortedError("the batch's write was interrupted"))
                self._centers_in_flight.discard(waiting.version.center_id)
            self._in_flight -= 1
            self._start(pool)


async def _settle_together(pool: asyncpg.Pool, batch: list[_Waiting]) -> None:
    try:
        outcomes = await store(pool, [w.version for w in batch])
    except Exception:  # whose fault it is shows when each is written alone
        await asyncio.gather(*(_settle_alone(pool, w) for w in batch))
        return
    for waiting, outcome in zip(batch, outcomes, strict=True):
        if not waiting.outcome.done():
            waiting.outcome.set_result(outcome)


async def _settle_alone(pool: asyncpg.Pool, waiting: _Waiting) -> None:
    try:
        outcome = await store_one(pool, waiting.version)
    except Exception as error:
        _fail(waiting, error)
        return
    if not waiting.outcome.done():
        waiting.outcome.set_result(outcome)


def _fail(waiting: _Waiting, error: Exception) -> None:
    if not waiting.outcome.done():
        waiting.outcome.set_exception(error)


async def earlier_answer(
    conn: Connection, center_id: str, key: str
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
        Acceptance(late=row["late"], extension=row["extension"]),
    )
