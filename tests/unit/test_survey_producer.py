"""The survey's producer answers within its time whatever Kafka does: acknowledged, refused,
or silent (a hand-written fake of aiokafka's producer)."""

import asyncio
import contextlib
from typing import Any

import pytest

from services.survey.adapters.producer import KafkaUnavailable, ResponseProducer


class SilentKafka:
    """Takes records and acknowledges them only when told to."""

    def __init__(self) -> None:
        self.deliveries: list[asyncio.Future[Any]] = []

    async def send(self, topic: str, value: bytes, key: bytes, partition: int | None) -> Any:
        delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.deliveries.append(delivery)
        return delivery


def producer_with(kafka: SilentKafka) -> ResponseProducer:
    producer = ResponseProducer("unused:9092", "topic", "test", ack_seconds=0.3)
    producer._producer = kafka
    return producer


async def test_an_acknowledged_record_returns() -> None:
    kafka = SilentKafka()
    producer = producer_with(kafka)
    sending = asyncio.create_task(producer.send(b"GECC-0001", b"{}"))
    await asyncio.sleep(0.01)
    kafka.deliveries[0].set_result("metadata")
    await sending


async def test_a_refused_record_is_unavailable() -> None:
    kafka = SilentKafka()
    producer = producer_with(kafka)
    sending = asyncio.create_task(producer.send(b"GECC-0001", b"{}"))
    await asyncio.sleep(0.01)
    kafka.deliveries[0].set_exception(RuntimeError("broker says no"))
    with pytest.raises(KafkaUnavailable):
        await sending


async def test_silence_is_unavailable_after_the_acknowledgement_time() -> None:
    kafka = SilentKafka()
    producer = producer_with(kafka)
    watchdog = asyncio.create_task(producer.watch(interval=0.05))
    try:
        started = asyncio.get_running_loop().time()
        with pytest.raises(KafkaUnavailable):
            await producer.send(b"GECC-0001", b"{}")
        assert 0.3 <= asyncio.get_running_loop().time() - started < 1.0
        # Acknowledged later anyway: nothing breaks (the citizen's retry is the same event).
        kafka.deliveries[0].set_result("late")
        await asyncio.sleep(0.01)
    finally:
        watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watchdog


async def test_not_connected_is_unavailable_at_once() -> None:
    with pytest.raises(KafkaUnavailable):
        await ResponseProducer("unused:9092", "topic", "test", 3.0).send(b"k", b"v")
