"""Round progress as metrics for Prometheus: completeness, submissions by state, time to due
(the alert "completeness under 80 % three days before the deadline" is built on them)."""

import asyncio
import logging

from services.intake.adapters import repository
from services.intake.metrics import IntakeMetrics
from shared.database import DATABASE_UNAVAILABLE
from shared.messaging.runtime import ServiceRuntime

log = logging.getLogger(__name__)


async def measure_progress(
    runtime: ServiceRuntime, metrics: IntakeMetrics, interval: float = 10.0
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
