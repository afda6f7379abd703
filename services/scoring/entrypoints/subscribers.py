from collections.abc import Sequence

import asyncpg

from services.scoring import handlers
from services.scoring.metrics import ScoringMetrics
from shared.events import Envelope, SubmissionReceived, SubmissionScored
from shared.messaging.runtime import ServiceRuntime
from shared.standards import StandardCatalog
from shared.topics import Topic


def register(runtime: ServiceRuntime, catalog: StandardCatalog) -> None:
    metrics = ScoringMetrics(runtime.registry)

    async def score_submissions(
        conn: asyncpg.Connection, events: Sequence[Envelope[SubmissionReceived]]
    ) -> None:
        """Score each submission version against the standard it names."""
        await handlers.score_submissions(conn, events, catalog, metrics, runtime.clock)

    runtime.subscribe_batch(
        Topic.SUBMISSION_RECEIVED, Envelope[SubmissionReceived], score_submissions
    )
    runtime.publishes(
        Topic.SUBMISSION_SCORED,
        Envelope[SubmissionScored],
        "Scores, verdict, reasons and change since the previous round of one submission "
        "version; key: center id.",
    )
