"""Citizens' survey responses for tests: events as the survey page produces them, sent with
the idempotent producer (acks=all), and the tallies they must add up to."""

import asyncio
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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


def random_responses(count: int, centers: int, seed: int = 19) -> list[Envelope[SurveyResponse]]:
    """``count`` responses spread over ``centers`` centers, each for both rounds, rated
    mostly 4 and 5 as satisfied citizens do; ``answered_at`` is set when they are sent."""
    pick = random.Random(seed)
    return [
        survey_response(
            f"GECC-{pick.randrange(centers) + 1:04d}",
            ratings={q: pick.choice((2, 3, 4, 4, 5, 5, 5)) for q in QUESTIONS},
        )
        for _ in range(count)
    ]


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


def idempotent_producer(bootstrap: str, **options: Any) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", **options
    )


async def send_until_acknowledged(
    producer: AIOKafkaProducer,
    topic: str,
    event: Envelope[SurveyResponse],
    attempt_timeout: float = 5.0,
) -> int:
    """Send ``event`` (always the same event id) until Kafka acknowledges it; return the
    attempts it took. An attempt that timed out may still have been written: the tallier must
    count such a copy once."""
    attempts = 0
    while True:
        attempts += 1
        try:
            async with asyncio.timeout(attempt_timeout):
                await producer.send_and_wait(
                    topic, answered_now(event), key=event.data.center_id.encode()
                )
            return attempts
        except (KafkaError, TimeoutError):
            await asyncio.sleep(0.5)
