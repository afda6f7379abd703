"""The outbox relay in a child process of its own.

In the service's event loop the relay waits its turn behind every request being answered
(under a burst an event sat 290 ms p50, 650 ms p99 in intake's outbox); on a thread of the
service's process it shares the interpreter lock with the requests, which cost intake a
third to a half of its accepted rate (docs/benchmarks.md). A child process has its own
interpreter and keeps pace on the other core.

The child is run as ``shared/service/child_process.py`` runs one (its settings on stdin, it
ends with its parent, started again when it dies); it reports its counters twice a second
and the parent keeps them in its own ``/metrics``.
"""

import asyncio
import json
import logging
from dataclasses import asdict, dataclass

import asyncpg
from prometheus_client import CollectorRegistry

from shared.database import create_pool
from shared.messaging.metrics import MessagingMetrics
from shared.messaging.outbox import OutboxRelay
from shared.service.child_process import ChildProcess, read_settings, report, until_told_to_stop

REPORT_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True)
class RelaySettings:
    dsn: str
    service: str
    bootstrap: str
    namespace: str
    busy_poll: float

    def relay(self, pool: asyncpg.Pool, metrics: MessagingMetrics) -> OutboxRelay:
        return OutboxRelay(
            pool,
            self.dsn,
            self.service,
            self.bootstrap,
            metrics,
            namespace=self.namespace,
            busy_poll=self.busy_poll,
        )


@dataclass
class RelayReport:
    """The child's counters: published events per topic since it started, and the backlog."""

    published: dict[str, float]
    backlog: float
    oldest_age: float


def snapshot(registry: CollectorRegistry, service: str) -> RelayReport:
    published: dict[str, float] = {}
    backlog = oldest = 0.0
    for family in registry.collect():
        for sample in family.samples:
            if sample.labels.get("service") != service:
                continue
            if sample.name == "gecc_outbox_published_total":
                published[sample.labels["topic"]] = sample.value
            elif sample.name == "gecc_outbox_backlog":
                backlog = sample.value
            elif sample.name == "gecc_outbox_oldest_age_seconds":
                oldest = sample.value
    return RelayReport(published, backlog, oldest)


class RelayProcess:
    """Runs and supervises the child; mirrors its counters into the service's metrics."""

    def __init__(self, settings: RelaySettings, metrics: MessagingMetrics) -> None:
        self._metrics = metrics
        self._seen: dict[str, float] = {}
        self._child = ChildProcess(
            f"{settings.service}: outbox relay",
            __name__,
            json.dumps(asdict(settings)),
            lambda sent: self._apply(RelayReport(**sent)),
            self._ended,
        )

    async def supervise(self) -> None:
        """Run the relay's child until cancelled (a task of the service's runtime)."""
        await self._child.supervise()

    def _ended(self, _: int | None) -> None:
        self._seen = {}  # the next child counts from zero

    def _apply(self, counters: RelayReport) -> None:
        for topic, total in counters.published.items():
            added = total - self._seen.get(topic, 0.0)
            if added > 0:
                self._metrics.outbox_published.labels(self._metrics.service, topic).inc(added)
            self._seen[topic] = total
        self._metrics.outbox_backlog.set(counters.backlog)
        self._metrics.outbox_oldest_age.set(counters.oldest_age)


async def _report_forever(registry: CollectorRegistry, service: str) -> None:
    while True:
        await asyncio.sleep(REPORT_INTERVAL_SECONDS)
        report(asdict(snapshot(registry, service)))


async def serve(settings: RelaySettings) -> None:
    registry = CollectorRegistry()
    metrics = MessagingMetrics(registry, settings.service)
    pool = await create_pool(settings.dsn, 1, 2)
    relay = settings.relay(pool, metrics)
    tasks = [
        asyncio.create_task(relay.run()),
        asyncio.create_task(_report_forever(registry, settings.service)),
        asyncio.create_task(until_told_to_stop()),
    ]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await relay.close()
        await pool.close()


def main() -> None:
    settings = RelaySettings(**json.loads(read_settings()))
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s {settings.service}-relay %(name)s: %(message)s",
    )
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
