"""Citizens' survey responses for tests: events as the survey page produces them, sent with
the idempotent producer (acks=all), and the tallies they must add up to."""

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime

import asyncpg
import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.events import Envelope, SurveyResponse, new_event
from tests.support.samples import STANDARD_ID, standard

ROUNDS = ("FY2570-H1", "FY2570-FY")
QUESTIONS = tuple(q.code for q in standard().questions)


def survey_response(
    center_id: str = "GECC-0001",
    rounds: Iterable[str] = ROUNDS,
    ratings: dict[str, int] | None = None,
    answered_at: datetime | None = None,
) -> Envelope[SurveyResponse]:
    return new_event(
        SurveyResponse(
            center_id=center_id,
            round_ids=list(rounds),
            standard=STANDARD_ID,
            ratings=ratings or dict.fromkeys(QUESTIONS, 5),
            answered_at=answered_at or datetime.now(UTC),
        ),
        producer="survey",
    )


def citizens(centers: int, seed: int = 19) -> Iterator[Envelope[SurveyResponse]]:
    """Responses without end, spread over ``centers`` centers, each for both rounds, rated
    mostly 4 and 5 as satisfied citizens do; ``answered_at`` is set when they are sent."""
    pick = random.Random(seed)
    while True:
        yield survey_response(
            f"GECC-{pick.randrange(centers) + 1:04d}",
            ratings={q: pick.choice((2, 3, 4, 4, 5, 5, 5)) for q in QUESTIONS},
        )


def answered_now(event: Envelope[SurveyResponse]) -> bytes:
    """The event as sent at this moment (its ``answered_at`` now), as JSON."""
    data = event.data.model_copy(update={"answered_at": datetime.now(UTC)})
    return event.model_copy(update={"data": data}).model_dump_json().encode()


Tallies = dict[tuple[str, str], tuple[int, dict[str, list[int]]]]


def expected_tallies(responses: Iterable[Envelope[SurveyResponse]]) -> Tallies:
    """(center, round) -> (responses, counts per question) that ``responses`` add up to,
    each event counted once whatever its copies."""
    unique = {event.event_id: event.data for event in responses}
    totals: Counter[tuple[str, str]] = Counter()
    counts: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(dict)
    for response in unique.values():
        for round_id in response.round_ids:
            key = (response.center_id, round_id)
            totals[key] += 1
            for code, rating in response.ratings.items():
                counts[key].setdefault(code, [0] * 5)[rating - 1] += 1
    return {key: (totals[key], counts[key]) for key in totals}


class AcknowledgedSender:
    """Sends events with the idempotent producer (acks=all) until Kafka acknowledges each. A
    failed attempt replaces the producer, as the outbox relay does: after the broker restarted
    an aiokafka producer was seen retrying its old batches without end."""

    def __init__(self, bootstrap: str, attempt_timeout: float = 5.0) -> None:
        self._bootstrap = bootstrap
        self._attempt_timeout = attempt_timeout
        self._producer: AIOKafkaProducer | None = None
        self._generation = 0
        self._lock = asyncio.Lock()

    async def send(self, topic: str, event: Envelope[SurveyResponse]) -> int:
        """Send ``event`` (always the same event id) until acknowledged; return the attempts
        it took. An attempt that failed may still have been written: the tallier must count
        such a copy once."""
        attempts = 0
        while True:
            attempts += 1
            producer, generation = await self._current()
            try:
                async with asyncio.timeout(self._attempt_timeout):
                    await producer.send_and_wait(
                        topic, answered_now(event), key=event.data.center_id.encode()
                    )
                return attempts
            except (KafkaError, TimeoutError):
                await self._discard(generation)
                await asyncio.sleep(0.5)

    async def close(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            await _abandon(producer)

    async def _current(self) -> tuple[AIOKafkaProducer, int]:
        async with self._lock:
            while self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    enable_idempotence=True,
                    acks="all",
                    request_timeout_ms=int(self._attempt_timeout * 1000),
                )
                try:
                    await producer.start()
                except KafkaError:
                    await _abandon(producer)
                    await asyncio.sleep(0.5)
                    continue
                self._producer = producer
                self._generation += 1
            return self._producer, self._generation

    async def _discard(self, generation: int) -> None:
        async with self._lock:
            if generation != self._generation or self._producer is None:
                return  # another attempt replaced it already
            producer, self._producer = self._producer, None
        await _abandon(producer)


async def _abandon(producer: AIOKafkaProducer) -> None:
    """Stop ``producer``; when its flush does not end (Kafka away), end its sender instead."""
    try:
        async with asyncio.timeout(3.0):
            await producer.stop()
    except Exception:
        sender = producer._sender.sender_task
        if sender is not None:
            sender.cancel()
        with suppress(Exception):
            await producer.client.close()


async def stored_tallies(database_url: str) -> Tallies:
    """The survey's tallies as its database holds them, in ``expected_tallies``'s shape."""
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            "SELECT center_id, round_id, responses, questions, counts FROM tallies"
        )
    finally:
        await conn.close()
    return {
        (r["center_id"], r["round_id"]): (
            r["responses"],
            {
                code: r["counts"][5 * i : 5 * i + 5]
                for i, code in enumerate(r["questions"])
                if any(r["counts"][5 * i : 5 * i + 5])
            },
        )
        for r in rows
    }


def tallier_process(parent: int) -> psutil.Process:
    """The one tallier process (``python -m services.survey.tallier``) of the survey process
    ``parent``."""
    children = psutil.Process(parent).children()
    talliers = [c for c in children if "services.survey.tallier" in c.cmdline()]
    assert len(talliers) == 1, [c.cmdline() for c in children]
    return talliers[0]
