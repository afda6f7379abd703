from collections.abc import Sequence

import asyncpg

from services.survey.handlers.tallies import tally_responses
from services.survey.metrics import SurveyMetrics
from shared.events import Envelope, SurveyResponse, SurveyTally
from shared.messaging.runtime import ServiceRuntime
from shared.standards import StandardCatalog
from shared.topics import Topic


def register(
    runtime: ServiceRuntime, metrics: SurveyMetrics, catalog: StandardCatalog, consumers: int = 1
) -> None:
    """``consumers``: Kafka consumers of the group in this process, sharing the partitions
    (while one waits for PostgreSQL another folds its batch); none in a process that only
    serves the public page."""

    async def tally(conn: asyncpg.Connection, events: Sequence[Envelope[SurveyResponse]]) -> None:
        """Fold citizens' responses into each center's per-round, per-question 5-point counts,
        each response once, and publish the changed tallies."""
        await tally_responses(conn, events, catalog, metrics, runtime.clock)

    if consumers == 0:
        return
    for _ in range(consumers):
        runtime.subscribe_batch(Topic.SURVEY_RESPONSE, Envelope[SurveyResponse], tally)
    runtime.publishes(
        Topic.SURVEY_TALLY,
        Envelope[SurveyTally],
        "A center's citizen survey tally in a round as it now stands, once per batch of"
        " responses that changed it; key: center id/round id (compacted: the latest counts).",
    )
