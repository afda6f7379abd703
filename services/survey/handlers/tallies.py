"""The tallier's use case: fold a batch of responses into the tallies and publish each changed
tally, in the transaction the consumer opened for the batch."""

import json
from collections.abc import Sequence
from uuid import UUID, uuid4

import asyncpg

from services.survey.adapters import tallies as store
from services.survey.domain.tallies import InvalidResponse, Tally, check, fold
from services.survey.metrics import TallierMetrics
from shared.clock import Clock
from shared.events import Envelope, EventType, SurveyResponse, SurveyTally
from shared.messaging.consumer import EventRejected
from shared.standards import StandardCatalog

SERVICE = "survey"


async def tally_responses(
    conn: asyncpg.Connection,
    events: Sequence[Envelope[SurveyResponse]],
    catalog: StandardCatalog,
    metrics: TallierMetrics,
    clock: Clock,
) -> None:
    """Add the batch's responses to the tallies and put one ``SurveyTally`` per changed
    (center, round) in the outbox. A response that can never be counted is rejected (the
    consumer then takes the batch event by event and dead-letters that one)."""
    responses = [event.data for event in events]
    questions: dict[str, list[str]] = {}
    known: dict[str, frozenset[str]] = {}
    try:
        for response in responses:
            if response.standard not in questions:
                standard = catalog.get(response.standard)
                if standard is None:
                    raise InvalidResponse(f"unknown standard {response.standard!r}")
                questions[standard.id] = [q.code for q in standard.questions]
                known[standard.id] = frozenset(questions[standard.id])
            check(response, known[response.standard])
        changed = await store.add(conn, fold(responses), questions, clock.now())
    except (InvalidResponse, store.StandardChanged) as error:
        raise EventRejected(str(error)) from error
    await store.publish(conn, [tally_event(tally) for tally in changed])
    now = clock.now()
    metrics.tallied.inc(len(responses))
    for response in responses:  # in real seconds, also on an accelerated clock
        lag = (now - response.answered_at).total_seconds() / clock.speed
        metrics.tally_lag.observe(max(0.0, lag))


def tally_key(center_id: str, round_id: str) -> str:
    """The tally events' Kafka key: the compacted topic keeps the latest per center and round."""
    return f"{center_id}/{round_id}"


def tally_event(tally: Tally) -> tuple[UUID, str, bytes]:
    """The ``SurveyTally`` event of ``tally`` (event id, key, JSON), as ``new_event`` would
    write it. Written by hand: a batch from many centers changes about as many tallies as it
    holds responses, and the pydantic models cost several times this."""
    event_id = uuid4()
    tallied_at = tally.tallied_at.isoformat()
    envelope = {
        "event_id": str(event_id),
        "event_type": EventType.SURVEY_TALLY.value,
        "occurred_at": tallied_at,
        "producer": SERVICE,
        "schema_version": SurveyTally.schema_version,
        "data": {
            "center_id": tally.key.center_id,
            "round_id": tally.key.round_id,
            "standard": tally.standard,
            "responses": tally.responses,
            "counts": tally.counts,
            "revision": tally.revision,
            "last_response_at": tally.last_response_at.isoformat(),
            "tallied_at": tallied_at,
        },
    }
    return event_id, tally_key(*tally.key), json.dumps(envelope).encode()
