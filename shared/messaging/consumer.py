"""Idempotent, dead-lettering event consumption.

``EventConsumer.consume`` runs a use case ``handle(conn, event)`` for a message received by a
FastStream subscriber. For each message it:

1. parses the envelope itself, so a malformed message is dead-lettered instead of blocking
   the partition;
2. in one database transaction, claims the ``event_id`` in the inbox (a redelivered event is
   skipped) and runs the use case; the subscriber's ack policy commits the Kafka offset only
   after this transaction committed;
3. on ``EventRejected`` (the event can never be processed) or after ``max_attempts`` failures,
   publishes the original message with the error in headers to the service's dead-letter
   topic and moves on; when the database is unreachable it waits and redelivers instead,
   without limit, since dead-lettering would lose good events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

import asyncpg
from faststream.kafka.annotations import KafkaMessage
from pydantic import ValidationError

from shared.events import Envelope, EventData
from shared.messaging.metrics import MessagingMetrics

log = logging.getLogger(__name__)

DataT = TypeVar("DataT", bound=EventData)
if TYPE_CHECKING:
    # Only for the type checker: a pydantic generic inside Callable cannot be re-subscripted.
    Handle: TypeAlias = Callable[[asyncpg.Connection, Envelope[DataT]], Awaitable[None]]

TRANSIENT = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


class EventRejected(Exception):
    """The event is well-formed but can never be processed (e.g. it names an unknown standard)."""


class DeadLetterPublisher(Protocol):
    async def publish(
        self, message: bytes, *, topic: str, key: bytes | None, headers: dict[str, str]
    ) -> Any: ...


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
        self._failures: dict[tuple[str, int, int], int] = {}

    async def consume(
        self, message: KafkaMessage, event_model: type[Envelope[DataT]], handle: Handle[DataT]
    ) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        topic = record.topic
        try:
            event = event_model.model_validate_json(message.body)
        except ValidationError as error:
            await self._dead_letter(message, "invalid_event", str(error))
            return
        position = (topic, record.partition, record.offset)
        try:
            processed = await self._process(event, topic, handle)
        except EventRejected as error:
            await self._dead_letter(message, "rejected", str(error))
            return
        except TRANSIENT as error:
            log.warning("%s: %s unavailable (%s); redelivering", self._service, topic, error)
            self._metrics.consumed(topic, "retried")
            await asyncio.sleep(self._retry_delay)
            raise
        except Exception as error:
            attempts = self._failures.get(position, 0) + 1
            if attempts >= self._max_attempts:
                self._failures.pop(position, None)
                log.exception(
                    "%s: giving up on %s after %d attempts", self._service, position, attempts
                )
                await self._dead_letter(message, "failed", f"{type(error).__name__}: {error}")
                return
            self._failures[position] = attempts
            self._metrics.consumed(topic, "retried")
            await asyncio.sleep(self._retry_delay * attempts)
            raise
        self._failures.pop(position, None)
        self._metrics.consumed(topic, "processed" if processed else "duplicate")

    async def _process(self, event: Envelope[DataT], topic: str, handle: Handle[DataT]) -> bool:
        async with self._pool.acquire() as conn, conn.transaction():
            claimed = await conn.fetchval(
                "INSERT INTO inbox (event_id, topic) VALUES ($1, $2)"
                " ON CONFLICT (event_id) DO NOTHING RETURNING true",
                event.event_id,
                topic,
            )
            if not claimed:
                return False
            await handle(conn, event)
        return True

    async def _dead_letter(self, message: KafkaMessage, reason: str, error: str) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)
        headers = {k: v.decode(errors="replace") for k, v in record.headers or ()}
        headers.update(
            {
                "x-gecc-original-topic": record.topic,
                "x-gecc-original-partition": str(record.partition),
                "x-gecc-original-offset": str(record.offset),
                "x-gecc-consumer": self._service,
                "x-gecc-error-reason": reason,
                "x-gecc-error": error[:4000],
                "x-gecc-failed-at": datetime.now(UTC).isoformat(),
            }
        )
        await self._publisher.publish(
            record.value or b"", topic=self._dead_letter_topic, key=record.key, headers=headers
        )
        log.error(
            "%s: dead-lettered %s/%d@%d: %s",
            self._service,
            record.topic,
            record.partition,
            record.offset,
            error[:500],
        )
        self._metrics.dead_letters.labels(self._service, record.topic, reason).inc()
        self._metrics.consumed(record.topic, "dead_lettered")
