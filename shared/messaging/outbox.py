"""Transactional outbox: ``enqueue`` in the caller's transaction, ``OutboxRelay`` publishes."""

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from shared.events import Envelope
from shared.messaging.metrics import MessagingMetrics
from shared.topics import Topic

log = logging.getLogger(__name__)

METRICS_INTERVAL_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 5.0
# Bytes of one record batch the relay builds for a partition: well under the broker's
# message.max.bytes (1 MiB by default) so that a batch is never refused for its size.
MAX_BATCH_BYTES = 256 * 1024


def notify_channel(service: str) -> str:
    """The channel the relay listens on; the ``outbox`` trigger notifies it (migration 002)
    with the schema's name, which is the service's."""
    return f"gecc_outbox_{service}"


OUTBOX_INSERT = "INSERT INTO outbox (event_id, topic, message_key, payload)"


def outbox_values(topic: Topic, key: str, event: Envelope[Any]) -> tuple[UUID, str, str, bytes]:
    """The row ``enqueue`` writes, for a writer that folds it into a larger statement. The
    topic is stored without the deployment's namespace, which the relay adds: tools that
    write events (the operators' CLI) need not know it."""
    return event.event_id, topic.value, key, event.model_dump_json().encode()


async def enqueue(conn: asyncpg.Connection, topic: Topic, key: str, event: Envelope[Any]) -> None:
    """Store ``event`` for publishing; call inside the transaction that made the change.
    The insert itself wakes the relay (a statement trigger notifies at commit)."""
    row = outbox_values(topic, key, event)
    await conn.execute(f"{OUTBOX_INSERT} VALUES ($1, $2, $3, $4)", *row)


async def enqueue_many(
    conn: asyncpg.Connection, events: Sequence[tuple[Topic, str, Envelope[Any]]]
) -> None:
    """``enqueue`` for many events at once (in this order)."""
    await conn.executemany(
        f"{OUTBOX_INSERT} VALUES ($1, $2, $3, $4)",
        [outbox_values(topic, key, event) for topic, key, event in events],
    )


class OutboxRelay:
    """Publishes outbox rows in id order, in batches, with the idempotent producer (acks=all).

    One relay per service is active at a time: it holds a session advisory lock on its own
    connection (released by PostgreSQL if the process dies), so replicas never reorder a
    center's events. While rows keep coming it looks for more every ``busy_poll`` seconds;
    when a look finds nothing it turns on the doorbell (migration 003: writers then NOTIFY
    at commit), looks once more, and sleeps until woken or until ``poll_interval`` passes.
    No transaction stays open while Kafka is waited for: a batch is read, sent with a
    deadline, and only then deleted; a crash in between sends it again, which
    consumers absorb by de-duplicating on ``event_id``.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        dsn: str,
        service: str,
        bootstrap: str,
        metrics: MessagingMetrics,
        batch_size: int = 500,
        poll_interval: float = 1.0,
        publish_timeout: float = 10.0,
        namespace: str = "",
        busy_poll: float = 0.02,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._service = service
        self._namespace = namespace
        self._busy_poll = busy_poll
        self._bootstrap = bootstrap
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._publish_timeout = publish_timeout
        self._wake = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._leader: asyncpg.Connection | None = None
        self._holds_lock = False

    async def run(self) -> None:
        gauges = asyncio.create_task(self._refresh_metrics_forever(), name="outbox-metrics")
        backoff = 0.5
        try:
            while True:
                try:
                    await self._relay_once()
                    backoff = 0.5
                except Exception as error:  # Kafka or PostgreSQL away: back off, keep the rows
                    log.warning(
                        "outbox relay of %s: %s; retrying in %.1fs",
                        self._service,
                        error or type(error).__name__,
                        backoff,
                    )
                    await self._reset_producer()
                    # The lock lives only as long as the leader's session: after a failure,
                    # lead again from a fresh connection rather than trust the old one.
                    await self._drop_leader()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
        finally:
            gauges.cancel()

    async def _relay_once(self) -> None:
        if not await self._lead():
            await asyncio.sleep(self._poll_interval)
            return
        published = await self.publish_batch()
        if published >= self._batch_size:
            return
        if published:
            await asyncio.sleep(self._busy_poll)
            return
        await self._ring_when_written(True)
        # A row committed before the bell was on notified no one: look once more.
        if not await self.publish_batch():
            await self._sleep_until_woken()
        await self._ring_when_written(False)

    async def _ring_when_written(self, waiting: bool) -> None:
        await self._pool.execute("UPDATE outbox_relay SET waiting = $1", waiting)

    async def publish_batch(self) -> int:
        producer = await self._ensure_producer()
        rows = await self._pool.fetch(
            "SELECT id, topic, message_key, payload FROM outbox ORDER BY id LIMIT $1",
            self._batch_size,
        )
        if not rows:
            return 0
        async with asyncio.timeout(self._publish_timeout):
            await self._publish(producer, rows)
        await self._pool.execute(
            "DELETE FROM outbox WHERE id = ANY($1::bigint[])",
            [r["id"] for r in rows],
        )
        for topic, count in Counter(r["topic"] for r in rows).items():
            self._metrics.outbox_published.labels(self._service, topic).inc(count)
        return len(rows)

    async def refresh_metrics(self) -> None:
        row = await self._pool.fetchrow(
            "SELECT count(*) AS backlog,"
            " coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest"
            " FROM outbox"
        )
        assert row is not None
        self._metrics.outbox_backlog.set(row["backlog"])
        self._metrics.outbox_oldest_age.set(float(row["oldest"]))

    async def close(self) -> None:
        await self._reset_producer()
        await self._drop_leader()

    async def _drop_leader(self) -> None:
        leader, self._leader = self._leader, None
        self._holds_lock = False
        if leader is not None:
            with contextlib.suppress(Exception):
                await leader.close()

    async def _refresh_metrics_forever(self) -> None:
        while True:
            with contextlib.suppress(Exception):
                await self.refresh_metrics()
            await asyncio.sleep(METRICS_INTERVAL_SECONDS)

    async def _lead(self) -> bool:
        """Hold the relay's advisory lock and listen for new rows; False while another leads."""
        if self._leader is None or self._leader.is_closed():
            self._holds_lock = False
            self._leader = await asyncpg.connect(self._dsn)
            await self._leader.add_listener(notify_channel(self._service), self._on_notify)
        if not self._holds_lock:
            self._holds_lock = bool(
                await self._leader.fetchval(
                    "SELECT pg_try_advisory_lock(hashtext($1))", notify_channel(self._service)
                )
            )
        return self._holds_lock

    async def _publish(self, producer: AIOKafkaProducer, rows: Sequence[asyncpg.Record]) -> None:
        """Send ``rows`` as record batches, one per partition (in id order within each), and
        wait until Kafka has them all. Built batches cost the relay about half the CPU of
        one ``send`` per record, and leave at once instead of lingering for more."""
        partition_of = DefaultPartitioner()  # the producer's own: murmur2 of the key
        partitions: dict[str, list[int]] = {}
        building: dict[tuple[str, int], BatchBuilder] = {}
        acks: list[asyncio.Future[Any]] = []
        for row in rows:
            topic, key, value = (
                self._namespace + row["topic"],
                row["message_key"].encode(),
                bytes(row["payload"]),
            )
            if topic not in partitions:
                partitions[topic] = sorted(await producer.partitions_for(topic))
            where = (topic, partition_of(key, partitions[topic], partitions[topic]))
            batch = building.get(where)
            if batch is not None and batch.append(key=key, value=value, timestamp=None) is not None:
                continue
            if batch is not None:  # full: send it and start the next one
                acks.append(await self._send_batch(producer, batch, *where))
            batch = building[where] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None) is None:
                raise ValueError(f"outbox row {row['id']} does not fit a record batch")
        for where, batch in building.items():
            acks.append(await self._send_batch(producer, batch, *where))
        await asyncio.gather(*acks)

    @staticmethod
    async def _send_batch(
        producer: AIOKafkaProducer, batch: BatchBuilder, topic: str, partition: int
    ) -> asyncio.Future[Any]:
        batch.close()
        return await producer.send_batch(batch, topic, partition=partition)

    async def _ensure_producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=f"gecc-{self._service}-outbox",
                enable_idempotence=True,
                acks="all",
                linger_ms=5,
                max_batch_size=MAX_BATCH_BYTES,
                request_timeout_ms=15000,
            )
            try:
                await producer.start()
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def _reset_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await producer.stop()
        except Exception:
            # stop() flushes, and an idempotent producer retries without end while Kafka is
            # away: end its sender and connections instead. Unacknowledged rows stay in the
            # outbox and are sent again by the next producer.
            sender = producer._sender.sender_task  # no public way to abandon the flush
            if sender is not None:
                sender.cancel()
            with contextlib.suppress(Exception):
                await producer.client.close()

    def _on_notify(self, *_: object) -> None:
        self._wake.set()

    async def _sleep_until_woken(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        self._wake.clear()
