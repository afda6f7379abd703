"""Citizens' responses to Kafka: the idempotent producer (acks=all), one record a response
keyed by center id, answered only once the broker acknowledged it.

The producer connects in the background and again after it failed; until it is connected,
or while the broker does not acknowledge within ``ack_seconds``, ``send`` raises
``KafkaUnavailable`` (the page answers 503 with the answers kept). A record the broker
acknowledges later anyway is the same event as the citizen's retry (same event id)."""

import asyncio
import contextlib
import logging
from collections import deque

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

log = logging.getLogger(__name__)


class KafkaUnavailable(Exception):
    pass


class ResponseProducer:
    def __init__(self, bootstrap: str, topic: str, client_id: str, ack_seconds: float) -> None:
        self._bootstrap = bootstrap
        self._topic = topic
        self._client_id = client_id
        self._ack_seconds = ack_seconds
        self._producer: AIOKafkaProducer | None = None
        # Deliveries awaited, oldest first (they all wait as long): the watchdog ends those
        # past their time, cheaper than a timeout per response.
        self._waiting: deque[tuple[float, asyncio.Future[None]]] = deque()
        # Each center's partition, as Kafka's default partitioner puts its key (murmur2),
        # worked out once per center instead of once per response.
        self._partitions: list[int] = []
        self._partition_of: dict[bytes, int] = {}

    @property
    def connected(self) -> bool:
        return self._producer is not None

    async def send(self, key: bytes, value: bytes) -> None:
        producer = self._producer
        if producer is None:
            raise KafkaUnavailable("not connected to Kafka yet")
        loop = asyncio.get_running_loop()
        acknowledged: asyncio.Future[None] = loop.create_future()
        self._waiting.append((loop.time() + self._ack_seconds, acknowledged))
        try:
            # Waits only while the producer's buffer is full (at most its request timeout).
            delivery = await producer.send(
                self._topic, value, key=key, partition=self._partition(key)
            )
        except Exception as error:
            if not acknowledged.cancel() and not acknowledged.cancelled():
                acknowledged.exception()  # the watchdog's timeout, read: never logged
            raise KafkaUnavailable(f"Kafka refused: {type(error).__name__}") from error
        delivery.add_done_callback(lambda done: _settle(acknowledged, done))
        try:
            await acknowledged
        except TimeoutError as error:
            raise KafkaUnavailable("Kafka did not acknowledge in time") from error
        except Exception as error:
            raise KafkaUnavailable(f"Kafka refused: {type(error).__name__}") from error

    def _partition(self, key: bytes) -> int | None:
        found = self._partition_of.get(key)
        if found is None and self._partitions:
            found = DefaultPartitioner()(key, self._partitions, self._partitions)
            self._partition_of[key] = found
        return found

    async def watch(self, interval: float = 0.25) -> None:
        """End the wait of every delivery older than ``ack_seconds`` (run in the background)."""
        loop = asyncio.get_running_loop()
        waiting = self._waiting
        while True:
            await asyncio.sleep(interval)
            now = loop.time()
            while waiting and (waiting[0][0] <= now or waiting[0][1].done()):
                _, acknowledged = waiting.popleft()
                if not acknowledged.done():
                    acknowledged.set_exception(TimeoutError())

    async def keep_connected(self) -> None:
        """Connect, retrying until Kafka answers (run in the background from start to stop)."""
        delay = 0.5
        while self._producer is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=self._client_id,
                enable_idempotence=True,
                acks="all",
                linger_ms=2,
                # Also how long a send waits for room in a full buffer (Kafka away).
                request_timeout_ms=max(5000, int(self._ack_seconds * 1000)),
            )
            try:
                await producer.start()
            except Exception as error:
                log.warning("survey: Kafka not reachable (%s); retrying in %.1fs", error, delay)
                with contextlib.suppress(Exception):
                    await producer.stop()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            with contextlib.suppress(Exception):
                self._partitions = sorted(await producer.partitions_for(self._topic))
            self._producer = producer
            log.info("survey: producing responses to %s", self._topic)
        await asyncio.Event().wait()

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            async with asyncio.timeout(5):
                await producer.stop()
        except Exception:
            sender = producer._sender.sender_task  # the flush never ends while Kafka is away
            if sender is not None:
                sender.cancel()
            with contextlib.suppress(Exception):
                await producer.client.close()


def _settle(acknowledged: "asyncio.Future[None]", delivery: "asyncio.Future[object]") -> None:
    if acknowledged.done():  # answered 503 already; the outcome is read, never logged
        if not delivery.cancelled():
            delivery.exception()
        return
    if delivery.cancelled():
        acknowledged.set_exception(KafkaUnavailable("delivery cancelled"))
    elif (error := delivery.exception()) is not None:
        acknowledged.set_exception(error)
    else:
        acknowledged.set_result(None)
