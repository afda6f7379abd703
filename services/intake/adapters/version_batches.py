"""Submission versions written in batches: one statement and one commit for the requests
that arrived while the previous batch was being written.

Under load most of a one-statement write is the statement's fixed cost (a round trip, the
executor's set-up for six tables, the commit), not its rows (docs/benchmarks.md), so the
writer groups whatever is waiting when it is free ("natural batching": no timer, a lone
request is written at once). Each request still gets its own outcome. Two versions of one
center are never in the same batch or in two batches at once, so a batch never updates a
row twice and a center's versions keep their order. A batch that fails for any reason (an
Idempotency-Key used before or by another process a moment ago, a deadlock with another
process, a value one request carries that the database refuses) is written again request by
request, so that only the request at fault sees its error.
"""

import asyncio
from collections import deque
from dataclasses import dataclass, field

import asyncpg

from services.intake.adapters.audit import AUDIT_INSERT
from services.intake.adapters.submission_store import FastOutcome, FastVersion, store
from shared.messaging.outbox import OUTBOX_INSERT

COLUMNS = (
    ("round_id", "text"),
    ("opens_at", "timestamptz"),
    ("due_at", "timestamptz"),
    ("closes_at", "timestamptz"),
    ("center_id", "text"),
    ("extension_until", "timestamptz"),
    ("idempotency_key", "text"),
    ("new_id", "uuid"),
    ("receipt_prefix", "text"),
    ("received_at", "timestamptz"),
    ("late", "bool"),
    ("extension", "bool"),
    ("body", "text"),
    ("request_hash", "bytea"),
    ("event_id", "uuid"),
    ("topic", "text"),
    ("payload_head", "text"),
    ("payload_tail", "text"),
    ("actor", "text"),
    ("action", "text"),
    ("details", "text"),
    ("remote_addr", "text"),
)

_ARRAYS = ", ".join(f"${i}::{kind}[]" for i, (_, kind) in enumerate(COLUMNS, start=1))
_NAMES = ", ".join(name for name, _ in COLUMNS)

# As submission_store.STORE, for many: each row checked against its round's dates and
# extension, then written; the rows come back in the given order. An Idempotency-Key used
# before fails the whole statement on the key's unique index, and the batch is written
# again request by request (where ``store`` finds the earlier answer). Looking the keys up
# here instead let PostgreSQL cache, while the table was small, a plan that hashed all of
# idempotency_keys for every batch: slower and slower as a round went on.
STORE_MANY = f"""
WITH item AS (
    SELECT * FROM unnest({_ARRAYS}) WITH ORDINALITY AS i({_NAMES}, n)
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
    SELECT new_id, center_id, round_id, 1 FROM checked WHERE current
    ORDER BY center_id, round_id
    ON CONFLICT (center_id, round_id)
    DO UPDATE SET latest_version = submissions.latest_version + 1
    RETURNING id, center_id, round_id, latest_version
), taken AS (
    SELECT c.*, v.id AS submission_id, v.latest_version AS version,
           c.receipt_prefix || v.latest_version::text AS receipt_number
    FROM checked c JOIN version v ON v.center_id = c.center_id AND v.round_id = c.round_id
), stored AS (
    INSERT INTO submission_versions
        (submission_id, version, receipt_number, received_at, late, extension, body)
    SELECT submission_id, version, receipt_number, received_at, late, extension, body::jsonb
    FROM taken
), key AS (
    INSERT INTO idempotency_keys
        (center_id, idempotency_key, request_hash, submission_id, version)
    SELECT center_id, idempotency_key, request_hash, submission_id, version FROM taken
), event AS (
    {OUTBOX_INSERT}
    SELECT event_id, topic, center_id, convert_to(payload_head || '"submission_id":"'
        || submission_id || '","version":' || version
        || ',"receipt_number":' || to_json(receipt_number)::text || payload_tail, 'UTF8')
    FROM taken ORDER BY n
), audit AS (
    {AUDIT_INSERT}
    SELECT actor, action, 'submission:' || submission_id || '/v' || version, details::jsonb,
           remote_addr
    FROM taken ORDER BY n
)
SELECT t.submission_id, t.version, t.receipt_number
FROM checked c LEFT JOIN taken t ON t.n = c.n
ORDER BY c.n
"""


def _columns(versions: list[FastVersion]) -> list[list[object]]:
    columns: list[list[object]] = [[] for _ in COLUMNS]
    for new in versions:
        for column, value in zip(columns, new.values(), strict=True):
            column.append(value)
    return columns


async def store_many(pool: asyncpg.Pool, versions: list[FastVersion]) -> list[FastOutcome]:
    """``submission_store.store`` for versions of distinct centers and new
    Idempotency-Keys, in one statement: all written or, on any error, none."""
    rows = await pool.fetch(STORE_MANY, *_columns(versions))
    return [
        FastOutcome(
            replay=False,
            stale=row["submission_id"] is None,
            submission_id=row["submission_id"],
            version=row["version"],
            receipt_number=row["receipt_number"],
        )
        for row in rows
    ]


@dataclass
class _Waiting:
    version: FastVersion
    outcome: asyncio.Future[FastOutcome] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class VersionWriter:
    """Writes versions as ``submission_store.store`` does, ``max_batch`` at a time and
    ``max_in_flight`` batches at once (each holds a pool connection while it runs)."""

    def __init__(self, max_batch: int = 64, max_in_flight: int = 1) -> None:
        self._max_batch = max_batch
        self._max_in_flight = max_in_flight
        self._waiting: deque[_Waiting] = deque()
        self._centers_in_flight: set[str] = set()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def store(self, pool: asyncpg.Pool, version: FastVersion) -> FastOutcome:
        if self._max_batch <= 1:
            return await store(pool, version)
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
        batch.sort(key=lambda w: (w.version.center_id, w.version.round.id))
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
        outcomes = await store_many(pool, [w.version for w in batch])
    except Exception:  # whose fault it is shows when each is written alone
        await asyncio.gather(*(_settle_alone(pool, w) for w in batch))
        return
    for waiting, outcome in zip(batch, outcomes, strict=True):
        if not waiting.outcome.done():
            waiting.outcome.set_result(outcome)


async def _settle_alone(pool: asyncpg.Pool, waiting: _Waiting) -> None:
    try:
        outcome = await store(pool, waiting.version)
    except Exception as error:
        _fail(waiting, error)
        return
    if not waiting.outcome.done():
        waiting.outcome.set_result(outcome)


def _fail(waiting: _Waiting, error: Exception) -> None:
    if not waiting.outcome.done():
        waiting.outcome.set_exception(error)
