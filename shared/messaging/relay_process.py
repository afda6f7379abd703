"""The outbox relay in a child process of its own.

In the service's event loop the relay waits its turn behind every request being answered
(under a burst an event sat 290 ms p50, 650 ms p99 in intake's outbox); on a thread of the
service's process it shares the interpreter lock with the requests, which cost intake a
third to a half of its accepted rate (docs/benchmarks.md). A child process has its own
interpreter and keeps pace on the other core.

The parent writes the relay's settings as one JSON line to the child's stdin and keeps
stdin open: the child stops when it reads end-of-file, so it also ends when the parent is
killed. The child writes its counters as JSON lines to stdout twice a second; the parent
keeps them in its own ``/metrics``. A child that dies is started again.
"""

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from dataclasses import asdict, dataclass

import asyncpg
from prometheus_client import CollectorRegistry

from shared.database import create_pool
from shared.messaging.metrics import MessagingMetrics
from shared.messaging.outbox import OutboxRelay

log = logging.getLogger(__name__)

REPORT_INTERVAL_SECONDS = 0.5
STOP_TIMEOUT_SECONDS = 10.0
RESTART_DELAY_SECONDS = 1.0


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
        self._settings = settings
        self._metrics = metrics
        self._task: asyncio.Task[None] | None = None
        self._seen: dict[str, float] = {}

    def start(self) -> None:
        self._task = asyncio.create_task(self._supervise(), name="outbox-relay-process")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _supervise(self) -> None:
        while True:
            try:
                await self._run_child()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s: outbox relay process failed", self._settings.service)
            log.warning("%s: outbox relay process ended; starting it again", self._settings.service)
            await asyncio.sleep(RESTART_DELAY_SECONDS)

    async def _run_child(self) -> None:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        self._seen = {}  # a new child counts from zero
        try:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(json.dumps(asdict(self._settings)).encode() + b"\n")
            await child.stdin.drain()
            async for line in child.stdout:
                self._apply(RelayReport(**json.loads(line)))
            await child.wait()
        finally:
            await asyncio.shield(self._end(child))

    async def _end(self, child: asyncio.subprocess.Process) -> None:
        """Close the child's stdin (it stops itself), kill it if it does not."""
        if child.returncode is None and child.stdin is not None:
            child.stdin.close()
        try:
            async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                await child.wait()
        except TimeoutError:
            child.kill()
            await child.wait()

    def _apply(self, report: RelayReport) -> None:
        for topic, total in report.published.items():
            added = total - self._seen.get(topic, 0.0)
            if added > 0:
                self._metrics.outbox_published.labels(self._metrics.service, topic).inc(added)
            self._seen[topic] = total
        self._metrics.outbox_backlog.set(report.backlog)
        self._metrics.outbox_oldest_age.set(report.oldest_age)


async def _report_forever(registry: CollectorRegistry, service: str) -> None:
    while True:
        await asyncio.sleep(REPORT_INTERVAL_SECONDS)
        line = json.dumps(asdict(snapshot(registry, service))) + "\n"
        os.write(sys.stdout.fileno(), line.encode())


async def _parent_gone() -> None:
    """Return at end-of-file on stdin: the parent closed it or died."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def serve(settings: RelaySettings) -> None:
    registry = CollectorRegistry()
    metrics = MessagingMetrics(registry, settings.service)
    pool = await create_pool(settings.dsn, 1, 2)
    relay = settings.relay(pool, metrics)
    terminated = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminated.set)
    tasks = [
        asyncio.create_task(relay.run()),
        asyncio.create_task(_report_forever(registry, settings.service)),
        asyncio.create_task(_parent_gone()),
        asyncio.create_task(terminated.wait()),
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
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    settings = RelaySettings(**json.loads(sys.stdin.buffer.readline()))
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s {settings.service}-relay %(name)s: %(message)s",
    )
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
