"""Reading and writing test messages on the real broker."""

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord


async def send(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def read_all(
    bootstrap: str, topic: str, expected: int, within: float = 30.0
) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` once ``expected`` arrived, plus any arriving in the next 1 s."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        async with asyncio.timeout(within):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=500)
                records += [r for rs in batch.values() for r in rs]
        batch = await consumer.getmany(timeout_ms=1000)
        records += [r for rs in batch.values() for r in rs]
    except TimeoutError:
        pass
    finally:
        await consumer.stop()
    return records
