"""A use case that handles a batch's events at once (``handle_many``) on the real database:
it sees each new event once, in order; a redelivered event is skipped; when the batch
fails, the events go through again one at a time and only the failing one is
dead-lettered."""

from collections.abc import Sequence
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord
from prometheus_client import CollectorRegistry

from shared.events import Envelope, SubmissionReceived
from shared.messaging.consumer import EventConsumer
from shared.messaging.metrics import MessagingMetrics
from tests.support.isolation import Isolated
from tests.support.samples import received_event

TOPIC = "gecc.submission.received.v1"


class DeadLetters:
    def __init__(self) -> None:
        self.keys: list[bytes | None] = []

    async def publish(
        self, message: bytes, *, topic: str, key: bytes | None, headers: dict[str, str]
    ) -> None:
        self.keys.append(key)


def record(offset: int, event: Envelope[SubmissionReceived]) -> "ConsumerRecord[Any, Any]":
    value = event.model_dump_json().encode()
    key = event.data.center_id.encode()
    return ConsumerRecord(TOPIC, 0, offset, 0, 0, key, value, None, len(key), len(value), [])


async def test_a_batch_use_case_sees_new_events_once_and_fails_only_the_bad_one(
    isolated: Isolated,
) -> None:
    seen: list[list[str]] = []

    async def keep(
        conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
    ) -> None:
        centers = [e.data.center_id for e in events]
        seen.append(centers)
        if "GECC-0666" in centers:
            raise RuntimeError("this center's report breaks the use case")

    events = [received_event(f"GECC-{n:04d}") for n in (1, 2, 3)]
    dead = DeadLetters()
    async with isolated.service_pool("export") as pool:
        consumer = EventConsumer(
            service="export",
            pool=pool,
            dead_letter_topic="dead",
            publisher=dead,
            metrics=MessagingMetrics(CollectorRegistry(), "export"),
            retry_delay=0.01,
        )
        batch = [record(n, e) for n, e in enumerate([*events, events[0]])]
        await consumer.consume(batch, Envelope[SubmissionReceived], keep)
        assert seen == [["GECC-0001", "GECC-0002", "GECC-0003"]]  # the repeat: once

        seen.clear()
        bad = received_event("GECC-0666")
        later = [received_event("GECC-0004"), bad, received_event("GECC-0005")]
        await consumer.consume(
            [record(10, events[1]), *(record(11 + n, e) for n, e in enumerate(later))],
            Envelope[SubmissionReceived],
            keep,
        )
    # The batch (without the event seen before), then one at a time: the bad one three times.
    assert seen == [
        ["GECC-0004", "GECC-0666", "GECC-0005"],
        ["GECC-0004"],
        ["GECC-0666"],
        ["GECC-0666"],
        ["GECC-0666"],
        ["GECC-0005"],
    ]
    assert dead.keys == [b"GECC-0666"]
