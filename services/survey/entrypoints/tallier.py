"""The tallier: Kafka consumers folding the responses into the tallies, in a process of its
own beside the survey's (``python -m services.survey.tallier``), which gives the public page
its interpreter to itself."""

from collections.abc import Sequence

import asyncpg

from services.survey.handlers.tallies import tally_responses
from services.survey.metrics import SurveyMetrics, TallierMetrics
from services.survey.settings import SurveySettings
from shared.clock import AcceleratedClock, Clock
from shared.events import Envelope, SurveyResponse, SurveyTally
from shared.messaging.runtime import ServiceRuntime
from shared.service.child_metrics import ChildMetrics
from shared.service.child_process import ChildProcess, Report
from shared.standards import StandardCatalog
from shared.topics import Topic

MODULE = "services.survey.tallier"


def register(
    runtime: ServiceRuntime, metrics: TallierMetrics, catalog: StandardCatalog, consumers: int
) -> None:
    """``consumers``: Kafka consumers of the group in the tallier's process, sharing the
    partitions (while one waits for PostgreSQL another folds its batch)."""

    async def tally(conn: asyncpg.Connection, events: Sequence[Envelope[SurveyResponse]]) -> None:
        """Fold citizens' responses into each center's per-round, per-question 5-point counts,
        each response once, and publish the changed tallies."""
        await tally_responses(conn, events, catalog, metrics, runtime.clock)

    for _ in range(consumers):
        runtime.subscribe_batch(Topic.SURVEY_RESPONSE, Envelope[SurveyResponse], tally)
    runtime.publishes(
        Topic.SURVEY_TALLY,
        Envelope[SurveyTally],
        "A center's citizen survey tally in a round as it now stands, once per batch of"
        " responses that changed it; key: center id/round id (compacted: the latest counts).",
    )


def run_beside(runtime: ServiceRuntime, settings: SurveySettings, metrics: SurveyMetrics) -> None:
    """Run the tallier's process beside the survey's (none when ``tallier_consumers`` is 0):
    its metrics in the survey's ``/metrics``, its state in ``/health`` (``tallier``)."""
    if settings.tallier_consumers == 0:
        return
    shown = ChildMetrics()
    state = {"tallier": "starting"}

    def on_report(report: Report) -> None:
        shown.latest = report["metrics"]
        state["tallier"] = report["kafka"]

    def on_end(_: int | None) -> None:
        shown.latest = []
        state["tallier"] = "restarting"
        metrics.tallier_restarts.inc()

    child_settings = on_the_same_clock(settings, runtime.clock).model_dump_json()
    runtime.run_child(ChildProcess("tallier", MODULE, child_settings, on_report, on_end), shown)
    runtime.checks["tallier"] = lambda: state["tallier"]


def on_the_same_clock(settings: SurveySettings, clock: Clock) -> SurveySettings:
    """``settings`` with an accelerated clock's moments fixed, so that a process started from
    them later keeps the same virtual time."""
    if not isinstance(clock, AcceleratedClock):
        return settings
    return settings.model_copy(
        update={"clock_epoch": clock.epoch_real, "clock_start": clock.epoch_virtual}
    )
