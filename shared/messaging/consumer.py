"""Idempotent, dead-lettering event consumption, a batch of records at a time.

``EventConsumer.consume`` runs a use case ``handle(conn, event)`` for every record of a batch
a FastStream subscriber received. It:

1. parses each envelope itself, so a malformed record is dead-lettered instead of blocking
   its partition;
2. processes the whole batch in one database transaction, claiming the events'
   ``event_id``s in the inbox first (a redelivered event is skipped); when an event fails,
   that transaction is rolled back and the batch processed again with each event under a
   savepoint, so one event's failure is its own; the subscriber's ack policy commits the
   Kafka offsets only after the transaction committed;
3. dead-letters, with the error in headers, an event that can never be processed
   (``EventRejected``) or that failed ``max_attempts`` times, and goes on with the rest;
4. when the database is unreachable, or a deadlock aborted the transaction, lets the error
   through: the batch is redelivered (without limit, since dead-lettering would lose good
   events) after ``retry_delay``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import asyncpg
from aiokafka import ConsumerRecord
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from shared.database import DATABASE_UNAVAILABLE
from shared.events import Envelope, EventData
from shared.messaging.metrics import MessagingMetrics

log = logging.getLogger(__name__)

FAILPOINT_ENV = "GECC_FAILPOINT"
FAILPOINT_EXIT_CODE = 70

DataT = TypeVar("DataT", bound=EventData)
if TYPE_CHECKING:
    # Only for the type checker: a pydantic generic inside Callable cannot be re-subscripted.
    Handle: TypeAlias = Callable[[asyncpg.Connection, Envelope[DataT]], Awaitable[None]]
    HandleMany: TypeAlias = Callable[
        [asyncpg.Connection, Sequence[Envelope[DataT]]], Awaitable[None]
    ]

Record: TypeAlias = "ConsumerRecord[Any, Any]"

# A deadlock or serialization failure aborts the whole batch's transaction: the batch is
# redelivered and done again, never dead-lettered.
CONFLICTS = (asyncpg.exceptions.DeadlockDetectedError, asyncpg.exceptions.SerializationError)
TRANSIENT = (KafkaError, *DATABASE_UNAVAILABLE, *CONFLICTS)


class EventRejected(Exception):
    """The event is well-formed but can never be processed (e.g. it names an unknown standard)."""


class DeadLetterPublisher(Protocol):
    async def publish(
        self, message: bytes, *, topic: str, key: bytes | None, headers: dict[str, str]
    ) -> Any: ...


@dataclass(frozen=True)
class DeadLetter:
    record: Record
    reason: str
    error: str


class EventConsumer:
    def __init__(
        self,
        *,
        service: str,
        pool: asyncpg.Pool,
        dead_letter_topic: str,
        publisher: DeadLetterPublisher,
        metrics: MessagingMetrics,
        max_attempts: int = 3,
        retry_delay: float = 1.0,
    ) -> None:
        self._service = service
        self._pool = pool
        self._dead_letter_topic = dead_letter_topic
        self._publisher = publisher
        self._metrics = metrics
        self._max_attempts = max_attempts
        self._retry_delay = retry_delay
        self._exit_after_commit = os.environ.get(FAILPOINT_ENV) == "exit-after-commit"

    async def consume(
        self,
        records: Sequence[Record],
        event_model: type[Envelope[DataT]],
        handle_many: HandleMany[DataT],
    ) -> None:
        """``handle_many(conn, events)`` runs for the batch's new events, in their order, or
        for one event at a time when the batch failed: a use case may read and write there
        in one statement what each event would otherwise read and write on its own."""
        dead: list[DeadLetter] = []
        parsed: list[tuple[Record, Envelope[DataT]]] = []
        for record in records:
            try:
                parsed.append((record, event_model.model_validate_json(record.value or b"")))
            except ValidationError as error:
                dead.append(DeadLetter(record, "invalid_event", malformed(error)))
        try:
            async with self._pool.acquire() as conn:
                try:
                    async with conn.transaction():
                        outcomes = await self._all_at_once(conn, parsed, handle_many)
                        # Dead letters are published before the offsets move past them.
                        for letter in dead:
                            await self._dead_letter(letter)
                except TRANSIENT:
                    raise
                except Exception as error:  # some event failed: find which, one at a time
                    log.info("%s: batch failed (%r); event by event", self._service, error)
                    async with conn.transaction():
                        outcomes = [
                            await self._process(conn, r, e, handle_many, dead) for r, e in parsed
                        ]
                        for letter in dead:
                            await self._dead_letter(letter)
            if self._exit_after_commit:
                # Failpoint for crash tests: die between the database commit and the offset
                # commit, the moment redelivery must not turn into double processing.
                os._exit(FAILPOINT_EXIT_CODE)
        except TRANSIENT as error:
            topic = records[0].topic if records else "?"
            log.warning("%s: %s unavailable (%s); redelivering", self._service, topic, error)
            await asyncio.sleep(self._retry_delay)
            raise
        for (record, _), outcome in zip(parsed, outcomes, strict=True):
            if outcome != "dead_lettered":  # counted below, with its reason
                self._metrics.consumed(record.topic, outcome)
        for letter in dead:
            self._metrics.dead_letters.labels(
                self._service, letter.record.topic, letter.reason
            ).inc()
            self._metrics.consumed(letter.record.topic, "dead_lettered")

    async def _all_at_once(
        self,
        conn: asyncpg.Connection,
        parsed: Sequence[tuple[Record, Envelope[DataT]]],
        handle_many: HandleMany[DataT],
    ) -> list[str]:
        """The batch's inbox claims in one statement and its events without savepoints (two
        round trips less per event); any failure undoes it all and ``consume`` goes through
        the batch again event by event, under savepoints, with retries and dead letters."""
        claimed = {
            row["event_id"]
            for row in await conn.fetch(
                "INSERT INTO inbox (event_id, topic)"
                " SELECT * FROM unnest($1::uuid[], $2::text[])"
                " ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
                [event.event_id for _, event in parsed],
                [record.topic for record, _ in parsed],
            )
        }
        outcomes = []
        new = []
        for _, event in parsed:
            if event.event_id in claimed:
                claimed.discard(event.event_id)  # the same event twice in one batch: once
                new.append(event)
                outcomes.append("processed")
            else:
                outcomes.append("duplicate")
        if new:
            await handle_many(conn, new)
        return outcomes

    async def _process(
        self,
        conn: asyncpg.Connection,
        record: Record,
        event: Envelope[DataT],
        handle_many: HandleMany[DataT],
        dead: list[DeadLetter],
    ) -> str:
        for attempt in range(1, self._max_attempts + 1):
            try:
                async with conn.transaction():  # a savepoint: one event's failure is its own
                    claimed = await conn.fetchval(
                        "INSERT INTO inbox (event_id, topic) VALUES ($1, $2)"
                        " ON CONFLICT (event_id) DO NOTHING RETURNING true",
                        event.event_id,
                        record.topic,
                    )
                    if not claimed:
                        return "duplicate"
                    await handle_many(conn, [event])
                return "processed"
            except EventRejected as error:
                dead.append(DeadLetter(record, "rejected", str(error)))
                return "dead_lettered"
            except TRANSIENT:
                raise
            except Exception as error:
                if attempt == self._max_attempts:
                    log.exception("%s: giving up on %s", self._service, _position(record))
                    dead.append(DeadLetter(record, "failed", f"{type(error).__name__}: {error}"))
                    return "dead_lettered"
                self._metrics.consumed(record.topic, "retried")
                await asyncio.sleep(self._retry_delay * attempt)
        raise AssertionError("unreachable")

    async def _dead_letter(self, letter: DeadLetter) -> None:
        record = letter.record
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        headers.update(
            {
                "x-gecc-original-topic": record.topic,
                "x-gecc-original-partition": str(record.partition),
                "x-gecc-original-offset": str(record.offset),
                "x-gecc-consumer": self._service,
                "x-gecc-error-reason": letter.reason,
                "x-gecc-error": letter.error[:4000],
                "x-gecc-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        await self._publisher.publish(
            record.value or b"", topic=self._dead_letter_topic, key=record.key, headers=headers
        )
        log.error("%s: dead-lettered %s: %s", self._service, _position(record), letter.error[:500])


def malformed(error: ValidationError) -> str:
    """Which fields of an event are wrong and why, without their values: an event may carry a
    credential (a sign-in event's one-time code) that must reach no log and no header."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or 'event'}: {e['msg']}"
        for e in error.errors(include_url=False, include_input=False)
    )


def _position(record: Record) -> str:
    return f"{record.topic}/{record.partition}@{record.offset}"
