"""The survey's tallier under a steady stream of citizens' responses: how fast it folds them
and how long a response waits before it counts (the tally lag).

``python -m bench.survey_tallier [--responses 100000] [--rate 2000] [--centers 1343]`` needs
``GECC_KAFKA_BOOTSTRAP`` and ``GECC_DATABASE_URL`` (a superuser) like the tests, and works in a
database and topic namespace of its own, removed afterwards. It starts the survey service as
its own process (``python -m services.survey``, its tallier and its outbox relay each in a
child process, as deployed), produces the responses at ``--rate`` from this process with the
idempotent producer (acks=all), each for both rounds of the fiscal year and answered at its
sending, over ``--centers`` centers, and prints: the rate produced and acknowledged, the rate
tallied, how long the tallies took to catch up after the last response, the tally lag
p50/p99/max bucket (the service's ``gecc_survey_tally_lag_seconds``: now minus ``answered_at``
when folded), the tally events published, the CPU the tallier's process, the relay's and the
survey's own used, and the machine.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from bench.fixtures import postgres_facts
from bench.machine import CpuProbe, child_running, describe
from gecc.bootstrap import (
    ensure_topics,
    on_database,
    prepare_database,
    remove_namespace,
    with_login,
)
from shared.topics import Topic, TopicNames
from tests.support.survey import answered_now, citizens

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "gecc-bench"
LAG = "gecc_survey_tally_lag_seconds"
INF = float("inf")


@dataclass(frozen=True)
class Where:
    bootstrap: str
    admin_url: str
    database: str
    namespace: str

    @property
    def kafka_bootstrap(self) -> str:
        return self.bootstrap

    @property
    def survey_url(self) -> str:
        return with_login(self.admin_url, "survey", self.database, PASSWORD)

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.namespace)


async def main(responses: int, rate: float, centers: int, port: int) -> None:
    tag = uuid.uuid4().hex[:8]
    where = Where(
        os.environ["GECC_KAFKA_BOOTSTRAP"],
        os.environ["GECC_DATABASE_URL"],
        f"gecc_bench_{tag}",
        f"bench-{tag}.",
    )
    await prepare_database(where.admin_url, where.database, PASSWORD)
    await ensure_topics(where.bootstrap, where.namespace)
    log = Path(f"/tmp/gecc-bench-survey-{tag}.log")
    survey = start_survey(where, port, log)
    try:
        await wait_consuming(f"http://127.0.0.1:{port}", survey, log)
        await measure(where, survey, f"http://127.0.0.1:{port}", responses, rate, centers)
    finally:
        survey.terminate()
        survey.wait(15)
        await remove(where)
    print(f"survey log: {log}")


def start_survey(where: Where, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GECC_KAFKA_BOOTSTRAP": where.bootstrap,
        "GECC_TOPIC_NAMESPACE": where.namespace,
        "GECC_SURVEY_DATABASE_URL": where.survey_url,
        "GECC_SURVEY_HTTP_PORT": str(port),
        "GECC_SURVEY_LOG_LEVEL": "WARNING",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "services.survey"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def wait_consuming(url: str, survey: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
        for _ in range(300):
            if survey.poll() is not None:
                raise SystemExit(f"the survey exited; see {log}")
            try:
                health = (await client.get(f"{url}/health")).json()
                if health.get("kafka") == health.get("tallier") == "ok":
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit(f"the survey did not consume within 60 s; see {log}")


async def measure(
    where: Where,
    survey: subprocess.Popen[bytes],
    url: str,
    responses: int,
    rate: float,
    centers: int,
) -> None:
    process = psutil.Process(survey.pid)
    probe = CpuProbe(
        {
            "tallier": lambda: child_running(process, "services.survey.tallier"),
            "relay": lambda: child_running(process, "shared.messaging.relay_process"),
            "survey": lambda: [process],
        }
    )
    topic = where.topics(Topic.SURVEY_RESPONSE)
    producer = AIOKafkaProducer(
        bootstrap_servers=where.bootstrap, enable_idempotence=True, acks="all", linger_ms=5
    )
    await producer.start()
    before = probe.sample()
    started = time.monotonic()
    try:
        acknowledged = await produce(producer, topic, responses, rate, centers)
    finally:
        await producer.stop()
    produced_s = time.monotonic() - started
    async with httpx.AsyncClient(base_url=url, timeout=10, trust_env=False) as client:
        await poll_until(client, lambda r: r.tallied >= acknowledged)
        tallied_s = time.monotonic() - started
        after = probe.sample()
        found = await poll_until(client, lambda r: r.backlog == 0)
    cores = CpuProbe.cores(before, after)
    print(f"responses       {acknowledged} acknowledged of {responses}, {centers} centers")
    print(
        f"produced        {produced_s:.1f} s ({acknowledged / produced_s:,.0f}/s,"
        f" aimed at {rate:,.0f}/s)"
    )
    print(
        f"tallied         {tallied_s:.1f} s ({acknowledged / tallied_s:,.0f}/s),"
        f" caught up {tallied_s - produced_s:.2f} s after the last response"
    )
    print(
        f"tally lag       p50 {found.lag_quantile(0.5):.2f} s,"
        f" p99 {found.lag_quantile(0.99):.2f} s, {found.lag_within(2.0):.2%} within 2 s,"
        f" all within {found.lag_bound():g} s"
    )
    print(
        f"tally events    {found.published:,.0f} published"
        f" ({found.published / acknowledged:.2f} a response)"
    )
    print(
        f"CPU             tallier {cores['tallier']:.2f} cores, relay {cores['relay']:.2f},"
        f" survey's own process {cores['survey']:.2f}"
    )
    facts = await postgres_facts(on_database(where.admin_url, "postgres"))
    port = int(where.bootstrap.rsplit(":", 1)[1])
    for name, value in describe(facts, port, REPO).items():
        print(f"{name:<15} {value}")


async def produce(
    producer: AIOKafkaProducer, topic: str, responses: int, rate: float, centers: int
) -> int:
    """Send ``responses`` at ``rate`` a second, in 10 ms ticks; return how many Kafka
    acknowledged."""
    source = citizens(centers)
    pending: list[asyncio.Future[object]] = []
    acknowledged = 0
    started = time.monotonic()
    sent = 0
    while sent < responses:
        due = min(responses, int((time.monotonic() - started) * rate) + 1)
        for _ in range(due - sent):
            event = next(source)
            pending.append(
                await producer.send(topic, answered_now(event), key=event.data.center_id.encode())
            )
        sent = due
        done = [f for f in pending if f.done()]
        acknowledged += sum(1 for f in done if f.exception() is None)
        pending = [f for f in pending if not f.done()]
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*pending, return_exceptions=True)
    return acknowledged + sum(1 for r in results if not isinstance(r, BaseException))


@dataclass(frozen=True)
class Reading:
    """What the survey's ``/metrics`` says of the tallier, its outbox and the tally lag."""

    tallied: float
    backlog: float
    published: float
    lag: dict[float, float]  # the cumulative histogram: upper bound -> responses

    def lag_quantile(self, q: float) -> float:
        """Interpolated in its bucket, as Prometheus' ``histogram_quantile`` does."""
        rank = q * self.lag[INF]
        lower, below = 0.0, 0.0
        for bound in sorted(self.lag):
            if self.lag[bound] >= rank:
                if bound == INF:
                    return lower
                share = (rank - below) / max(self.lag[bound] - below, 1e-9)
                return lower + (bound - lower) * share
            lower, below = bound, self.lag[bound]
        return lower

    def since(self, earlier: "Reading") -> "Reading":
        """What happened between ``earlier`` and this reading (the lag of the responses
        folded meanwhile)."""
        return Reading(
            self.tallied - earlier.tallied,
            self.backlog,
            self.published - earlier.published,
            {b: n - earlier.lag.get(b, 0.0) for b, n in self.lag.items()},
        )

    def lag_within(self, seconds: float) -> float:
        return self.lag[seconds] / max(self.lag[INF], 1)

    def lag_bound(self) -> float:
        """The smallest bucket bound every response's lag is under."""
        return min(b for b, n in self.lag.items() if n >= self.lag[INF])


async def read_metrics(client: httpx.AsyncClient) -> Reading:
    text = (await client.get("/metrics")).text
    tallied = backlog = published = 0.0
    lag: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "gecc_survey_tallied_total":
                tallied = sample.value
            elif sample.name == "gecc_outbox_backlog":
                backlog = sample.value
            elif sample.name == "gecc_outbox_published_total":
                published += sample.value
            elif sample.name == f"{LAG}_bucket":
                lag[float(sample.labels["le"])] = sample.value
    return Reading(tallied, backlog, published, lag)


async def poll_until(
    client: httpx.AsyncClient, done: Callable[[Reading], bool], within: float = 600.0
) -> Reading:
    deadline = time.monotonic() + within
    while not done(reading := await read_metrics(client)):
        if time.monotonic() > deadline:
            raise SystemExit(f"not reached within {within:.0f} s: {reading}")
        await asyncio.sleep(0.1)
    return reading


async def remove(where: Where) -> None:
    await remove_namespace(where.admin_url, where.database, where.bootstrap, where.namespace)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=2000.0)
    parser.add_argument("--centers", type=int, default=1343)
    parser.add_argument("--port", type=int, default=28085)
    args = parser.parse_args()
    asyncio.run(main(args.responses, args.rate, args.centers, args.port))
