"""The tallier's use case: fold a batch of responses into the tallies and publish each changed
tally, in the transaction the consumer opened for the batch."""

from collections.abc import Sequence

import asyncpg

from services.survey.adapters import tallies as store
from services.survey.domain.tallies import InvalidResponse, check, fold
from services.survey.metrics import SurveyMetrics
from shared.clock import Clock
from shared.events import Envelope, SurveyResponse
from shared.messaging.consumer import EventRejected
from shared.standards import StandardCatalog

SERVICE = "survey"


async def tally_responses(
    conn: asyncpg.Connection,
    events: Sequence[Envelope[SurveyResponse]],
    catalog: StandardCatalog,
    metrics: SurveyMetrics,
    clock: Clock,
) -> None:
    """Add the batch's responses to the tallies and put one ``SurveyTally`` per changed
    (center, round) in the outbox. A response that can never be counted is rejected (the
    consumer then takes the batch event by event and dead-letters that one)."""
    responses = [event.data for event in events]
    questions: dict[str, list[str]] = {}
    try:
        for response in responses:
            if response.standard not in questions:
                standard = catalog.get(response.standard)
                if standard is None:
                    raise InvalidResponse(f"unknown standard {response.standard!r}")
                questions[standard.id] = [q.code for q in standard.questions]
            check(response, questions[response.standard])
        additions = fold(responses)
        await store.add_and_publish(conn, additions, questions, clock.now(), SERVICE)
    except (InvalidResponse, store.StandardChanged) as error:
        raise EventRejected(str(error)) from error
    now = clock.now()
    metrics.tallied.inc(len(responses))
    for response in responses:  # in real seconds, also on an accelerated clock
        lag = (now - response.answered_at).total_seconds() / clock.speed
        metrics.tally_lag.observe(max(0.0, lag))
