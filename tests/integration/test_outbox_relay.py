"""The outbox relay against the real broker and database: the doorbell (writers notify only
while the relay waits), deletion of what Kafka acknowledged, and the relay's child process
with its counters mirrored into the service's metrics."""

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client import CollectorRegistry

from shared.events import ExportRequested, new_event
from shared.messaging.metrics import MessagingMetrics
from shared.messaging.outbox import OutboxRelay, enqueue
from shared.messaging.relay_process import RelayProcess, RelaySettings
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all

SERVICE = "intake"


@pytest.fixture
async def pool(isolated: Isolated) -> AsyncIterator[asyncpg.Pool]:
    async with isolated.service_pool(SERVICE) as pool:
        yield pool


def relay_of(
    isolated: Isolated, pool: asyncpg.Pool, poll_interval: float = 1.0, busy_poll: float = 0.02
) -> OutboxRelay:
    return OutboxRelay(
        pool,
        isolated.service_url(SERVICE),
        SERVICE,
        isolated.kafka_bootstrap,
        MessagingMetrics(CollectorRegistry(), SERVICE),
        poll_interval=poll_interval,
        namespace=isolated.namespace,
        busy_poll=busy_poll,
    )


async def write_event(pool: asyncpg.Pool, round_id: str) -> None:
    now = datetime.now(UTC)
    requested = ExportRequested(
        request_id=uuid4(),
        round_id=round_id,
        requested_by="operator:test",
        requested_at=now,
    )
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, Topic.EXPORT_REQUESTED, round_id, new_event(requested, "test", now))


async def until(check: Callable[[], Awaitable[object]], what: str, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not within {within}s: {what}")


async def published_round_ids(isolated: Isolated, count: int) -> list[str]:
    consumer = AIOKafkaConsumer(
        isolated.topics(Topic.EXPORT_REQUESTED),
        bootstrap_servers=isolated.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found: list[str] = []
        async with asyncio.timeout(20):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [json.loads(r.value)["data"]["round_id"] for r in records]
        return found
    finally:
        await consumer.stop()


async def test_a_waiting_relay_is_rung_and_a_busy_one_is_not(
    isolated: Isolated, pool: asyncpg.Pool
) -> None:
    # The fallback poll is far away: only the doorbell can bring an event out quickly.
    relay = relay_of(isolated, pool, poll_interval=60.0, busy_poll=0.05)
    await pool.execute("DELETE FROM outbox")  # the registry's announcements, if any
    running = asyncio.create_task(relay.run())
    try:
        waiting = lambda: pool.fetchval("SELECT waiting FROM outbox_relay")  # noqa: E731
        await until(waiting, "the relay to wait for the bell", within=15)

        await write_event(pool, "FY2570-H1")
        outbox_empty = lambda: _empty(pool)  # noqa: E731
        await until(outbox_empty, "the event rung in to be published and deleted", within=5)
        assert await published_round_ids(isolated, 1) == ["FY2570-H1"]

        # While it is busy (the bell off) a commit does not notify: turn the bell off as the
        # relay does, and the event waits for the fallback poll.
        await until(waiting, "the relay to wait again", within=5)
        await asyncio.sleep(0.3)  # past its last look before sleeping
        listener = await asyncpg.connect(isolated.service_url(SERVICE))
        heard: list[str] = []
        try:
            await listener.add_listener("gecc_outbox_intake", lambda *a: heard.append(a[2]))
            await pool.execute("UPDATE outbox_relay SET waiting = false")
            await write_event(pool, "FY2570-FY")
            await asyncio.sleep(0.5)
            assert heard == []
            assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
            await pool.execute("UPDATE outbox_relay SET waiting = true")
            await write_event(pool, "FY2571-H1")
            await until(lambda: _heard(heard), "a notification once the bell is on", within=5)
        finally:
            await listener.close()
        await until(outbox_empty, "both events to be published", within=5)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await relay.close()


async def test_the_relay_process_publishes_and_reports_to_the_parent(
    isolated: Isolated, pool: asyncpg.Pool
) -> None:
    registry = CollectorRegistry()
    metrics = MessagingMetrics(registry, SERVICE)
    await pool.execute("DELETE FROM outbox")
    relay = RelayProcess(
        RelaySettings(
            isolated.service_url(SERVICE),
            SERVICE,
            isolated.kafka_bootstrap,
            isolated.namespace,
            0.02,
        ),
        metrics,
    )
    running = asyncio.create_task(relay.supervise())
    try:
        for n in range(5):
            await write_event(pool, f"FY{2570 + n}-H1")
        await until(lambda: _empty(pool), "the child to publish the 5 events", within=20)
        topic = Topic.EXPORT_REQUESTED.value

        async def counted() -> bool:
            value = registry.get_sample_value(
                "gecc_outbox_published_total", {"service": SERVICE, "topic": topic}
            )
            return value == 5

        await until(counted, "the parent's counter to show 5 published", within=5)
        assert sorted(await published_round_ids(isolated, 5)) == [
            f"FY{2570 + n}-H1" for n in range(5)
        ]
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_batch_keeps_each_keys_order_across_partitions_topics_and_full_batches(
    isolated: Isolated, pool: asyncpg.Pool
) -> None:
    # 8 centers x 40 events of 20 kB: several keys per partition and more than one record
    # batch (256 kB) per partition, with events of another topic in between.
    await pool.execute("DELETE FROM outbox")
    centers = [f"GECC-{n:04d}" for n in range(1, 9)]
    rows = [
        (
            uuid4(),
            Topic.SUBMISSION_RECEIVED.value,
            center,
            json.dumps({"n": n, "pad": "x" * 20_000}),
        )
        for n in range(40)
        for center in centers
    ]
    rows[::50] = [(uuid4(), Topic.EXPORT_REQUESTED.value, "FY2570-H1", "{}")] * len(rows[::50])
    await pool.executemany(
        "INSERT INTO outbox (event_id, topic, message_key, payload)"
        " VALUES ($1, $2, $3, convert_to($4, 'UTF8'))",
        [(uuid4(), topic, key, payload) for _, topic, key, payload in rows],
    )
    relay = relay_of(isolated, pool)
    try:
        assert await relay.publish_batch() == len(rows)
    finally:
        await relay.close()
    assert await _empty(pool)

    records = await read_all(
        isolated.kafka_bootstrap, isolated.topics(Topic.SUBMISSION_RECEIVED), len(rows) - 7
    )
    sent = {
        center: [json.loads(p)["n"] for _, t, k, p in rows if k == center] for center in centers
    }
    assert {
        center: [json.loads(r.value)["n"] for r in records if r.key == center.encode()]
        for center in centers
    } == sent
    assert all(len({r.partition for r in records if r.key == c.encode()}) == 1 for c in centers)
    assert len({r.partition for r in records}) > 1
    exports = await read_all(isolated.kafka_bootstrap, isolated.topics(Topic.EXPORT_REQUESTED), 7)
    assert len(exports) == 7


async def _empty(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT count(*) = 0 FROM outbox"))


async def _heard(heard: list[str]) -> bool:
    return bool(heard)
