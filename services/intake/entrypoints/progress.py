"""Round progress as metrics for Prometheus: completeness, submissions by state, time to due
(the alert "completeness under 80 % three days before the deadline" is built on them)."""

import asyncio
import logging

from prometheus_client import CollectorRegistry, Gauge

from services.intake.adapters import repository
from shared.database import DATABASE_UNAVAILABLE
from shared.messaging.runtime import ServiceRuntime

log = logging.getLogger(__name__)


class ProgressMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.completeness = Gauge(
            "gecc_round_completeness_ratio",
            "Centers that submitted for the round ÷ centers in the registry (0..1).",
            ["round"],
            registry=registry,
        )
        self.submissions = Gauge(
            "gecc_round_submissions",
            "Centers of the registry by their state in the round: on_time, late, missing.",
            ["round", "state"],
            registry=registry,
        )
        self.seconds_to_due = Gauge(
            "gecc_round_seconds_to_due",
            "Seconds until the round's due time (negative after it), by the service clock.",
            ["round"],
            registry=registry,
        )


async def measure_progress(
    runtime: ServiceRuntime, metrics: ProgressMetrics, interval: float = 10.0
) -> None:
    while True:
        try:
            now = runtime.clock.now()
            async with runtime.pool.acquire() as conn:
                rows = await repository.round_progress(conn, now)
            for row in rows:
                expected, submitted, late = row["expected"], row["submitted"], row["late"]
                round_id = row["id"]
                metrics.completeness.labels(round_id).set(submitted / expected if expected else 0)
                metrics.submissions.labels(round_id, "on_time").set(submitted - late)
                metrics.submissions.labels(round_id, "late").set(late)
                metrics.submissions.labels(round_id, "missing").set(max(0, expected - submitted))
                metrics.seconds_to_due.labels(round_id).set((row["due_at"] - now).total_seconds())
        except DATABASE_UNAVAILABLE as error:
            log.warning("round progress: database unavailable (%s)", error)
        await asyncio.sleep(interval)
