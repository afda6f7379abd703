"""Citizens' survey responses accepted per second by the survey service, beside a bare
baseline producing the same record to the same broker, in one run.

``python -m bench.survey [--clients 64] [--seconds 15] [--rounds 2] [--responses N]`` prepares
a database and a topic namespace of the run's own on the local PostgreSQL and Kafka
(``GECC_DATABASE_URL``, ``GECC_KAFKA_BOOTSTRAP``; removed at the end), announces ``--clients``
centers and the rounds around today, starts the survey service as it runs (``python -m
services.survey``, its tallier in a process of its own, a child of the survey's, folding every
response on the topic) and the baseline (``bench.survey_baseline``: a bare ASGI app, aiokafka
idempotent acks=all), then measures in turn, ``--rounds`` times each:

- **survey**: ``--clients`` citizens, each on its own keep-alive connection, post complete
  answers to ``/s/{center}``, each as a new phone (a new device cookie) with a visit token
  signed by the run's secret (as the form would carry it); one response = one request
  answered 303 to the thanks, once Kafka acknowledged it;
- **baseline**: as many clients post the same bodies to the baseline.

It prints responses per second of each, their ratio (aims: the survey at 0.6 of the baseline
or more, and 2,000/s or more), p50/p95 of the answers, the cores each used (the survey's
process and its tallier's apart), the tally lag of each phase's responses (the survey's
``gecc_survey_tally_lag_seconds`` across the phase until its responses are folded, the
tallier settled before it; aim p99 under 2 s), the resident memory of the survey's process
and its tallier's after the warm-up and at the end, and the machine.
``--responses N``: after the phases, survey responses until N more were accepted, the
resident memory printed every tenth of the way (it should stay flat). The per-address limit
is raised for the run (``GECC_SURVEY_RESPONSES_PER_HOUR``, ``GECC_SURVEY_RESPONSES_BURST``):
all the clients are one address.
"""

import argparse
import asyncio
import os
import secrets
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import httpx
import psutil

from bench.fixtures import postgres_facts
from bench.load import RawConnection
from bench.machine import CpuProbe, child_running, describe
from bench.portal import percentile
from bench.survey_tallier import PASSWORD, Reading, Where, poll_until, read_metrics, remove
from gecc.bootstrap import ensure_topics, prepare_database
from services.survey.domain.tokens import VisitTokens
from shared.events import CenterRegistered
from shared.standards import default_standards_dir, load_catalog
from shared.topics import Topic
from tests.support.served_survey import announce
from tests.support.services import free_port

REPO = Path(__file__).resolve().parent.parent
SECRET = "bench-survey-secret"
RAISED = {"GECC_SURVEY_RESPONSES_PER_HOUR": "1000000000", "GECC_SURVEY_RESPONSES_BURST": "1000000"}


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    accepted: int = 0
    errors: dict[int, int] = field(default_factory=dict)
    took: list[float] = field(default_factory=list)
    cores: dict[str, float] = field(default_factory=dict)
    tallied: Reading | None = None  # the tallier's work on this phase's responses

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


class Citizens:
    """Request bytes: a new phone and a freshly signed token for every response."""

    def __init__(self, codes: list[str]) -> None:
        self.tokens = VisitTokens(SECRET.encode(), 7200)
        self.answers = urlencode({f"q_{c}": str(n % 5 + 1) for n, c in enumerate(codes)})

    def request(self, center: str) -> bytes:
        device = secrets.token_urlsafe(16)
        token = self.tokens.issue(center, device, time.time())
        body = f"token={token}&website=&{self.answers}".encode()
        return (
            f"POST /s/{center} HTTP/1.1\r\nHost: survey\r\nCookie: gecc_device={device}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body


async def client(
    port: int, center: str, citizens: Citizens, phase: Phase, end: float, limit: list[int]
) -> None:
    connection = RawConnection("127.0.0.1", port)
    try:
        while time.perf_counter() < end and limit[0] > 0:
            request = citizens.request(center)
            started = time.perf_counter()
            status = await connection.exchange(request)
            if status != 303:
                phase.errors[status] = phase.errors.get(status, 0) + 1
                continue
            phase.took.append(time.perf_counter() - started)
            phase.accepted += 1
            limit[0] -= 1
    finally:
        connection.close()


async def one_phase(
    name: str,
    port: int,
    centers: list[str],
    citizens: Citizens,
    seconds: float,
    probe: CpuProbe,
    responses: int = 2**62,
) -> Phase:
    phase = Phase(name)
    before = probe.sample()
    started = time.perf_counter()
    limit = [responses]
    end = started + seconds
    await asyncio.gather(*(client(port, c, citizens, phase, end, limit) for c in centers))
    phase.seconds = time.perf_counter() - started
    phase.cores = CpuProbe.cores(before, probe.sample())
    return phase


async def prepare(where: Where, centers: list[str]) -> None:
    await prepare_database(where.admin_url, where.database, PASSWORD)
    await ensure_topics(where.bootstrap, where.namespace)
    await announce(
        where,
        [
            CenterRegistered(center_id=c, name_th=f"ศูนย์ราชการสะดวก ทดสอบ {c}", office_path="PMO/B")
            for c in centers
        ],
    )


@contextmanager
def process(command: list[str], env: dict[str, str], log: Path) -> Iterator[psutil.Process]:
    with log.open("wb") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield psutil.Process(child.pid)
    finally:
        child.terminate()
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


async def ready(port: int, center: str, survey: bool) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:
        while time.monotonic() < deadline:
            try:
                if not survey:
                    await http.get(f"http://127.0.0.1:{port}/")
                    return
                health = (await http.get(f"http://127.0.0.1:{port}/health")).json()
                page = await http.get(f"http://127.0.0.1:{port}/s/{center}")
                consuming = health.get("kafka") == health.get("tallier") == "ok"
                if consuming and b'name="token"' in page.content:
                    return
            except (httpx.HTTPError, ValueError):
                pass
            await asyncio.sleep(0.3)
    raise SystemExit(f"the {'survey' if survey else 'baseline'} on :{port} did not get ready")


def memory(survey: psutil.Process) -> str:
    """The resident memory of the survey's process and of its tallier's, in MiB."""
    found = [survey, *child_running(survey, "services.survey.tallier")]
    return " and ".join(f"{p.memory_info().rss / 2**20:.0f}" for p in found) + " MiB"


async def tallied(metrics: httpx.AsyncClient, measure: Callable[[], Awaitable[Phase]]) -> Phase:
    """A phase begun once the tallier has folded every response before it (the baseline's
    go to the same topic), and its tally lag: the lag histogram of the survey's /metrics
    across the phase and until its last response is folded."""
    before = await read_metrics(metrics)
    while True:  # settled: no change for a second (the tallier reports twice a second)
        await asyncio.sleep(1.0)
        now = await read_metrics(metrics)
        if now.tallied == before.tallied:
            break
        before = now
    phase = await measure()
    after = await poll_until(metrics, lambda r: r.tallied >= before.tallied + phase.accepted)
    phase.tallied = after.since(before)
    return phase


async def run(args: argparse.Namespace) -> str:
    admin_url = os.environ.get("GECC_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    bootstrap = os.environ.get("GECC_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    tag = uuid.uuid4().hex[:8]
    where = Where(bootstrap, admin_url, f"gecc_bench_survey_{tag}", f"bench-survey-{tag}.")
    centers = [f"BENCH-{n:04d}" for n in range(1, args.clients + 1)]
    standard = max(
        load_catalog(default_standards_dir()).standards.values(), key=lambda s: s.version
    )
    citizens = Citizens([q.code for q in standard.questions])
    await prepare(where, centers)
    logs = Path(args.logs)
    survey_port, baseline_port = free_port(), free_port()
    env = {
        **os.environ,
        **RAISED,
        "GECC_KAFKA_BOOTSTRAP": bootstrap,
        "GECC_TOPIC_NAMESPACE": where.namespace,
        "GECC_SURVEY_DATABASE_URL": where.survey_url,
        "GECC_SURVEY_HTTP_PORT": str(survey_port),
        "GECC_SURVEY_TOKEN_SECRET": SECRET,
        "GECC_SURVEY_LOG_LEVEL": "WARNING",
    }
    topic = where.topics(Topic.SURVEY_RESPONSE)
    # The code as it is when the run starts (the tree may change during a long run).
    facts = await postgres_facts(admin_url)
    machine = describe(facts, int(bootstrap.rsplit(":", 1)[1]), REPO)
    lines: list[str] = []
    try:
        with (
            process([sys.executable, "-m", "services.survey"], env, logs / "survey.log") as survey,
            process(
                [
                    sys.executable,
                    "-m",
                    "bench.survey_baseline",
                    str(baseline_port),
                    bootstrap,
                    topic,
                ],
                env,
                logs / "baseline.log",
            ) as baseline,
        ):
            await ready(survey_port, centers[0], survey=True)
            await ready(baseline_port, centers[0], survey=False)
            probe = CpuProbe(
                {
                    "survey": lambda: [survey],
                    "tallier": lambda: child_running(survey, "services.survey.tallier"),
                    "baseline": lambda: [baseline],
                    "bench": lambda: [psutil.Process()],
                }
            )
            for name, port in (("warm-up", survey_port), ("warm-up", baseline_port)):
                await one_phase(name, port, centers, citizens, 3.0, probe)
            memory_start = memory(survey)
            phases: list[Phase] = []
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{survey_port}", timeout=10, trust_env=False
            ) as metrics:
                for _ in range(args.rounds):
                    for name, port in (("baseline", baseline_port), ("survey", survey_port)):
                        phase = await tallied(
                            metrics,
                            partial(one_phase, name, port, centers, citizens, args.seconds, probe),
                        )
                        phases.append(phase)
                        print(f"{name:9} {phase.rate:8.0f}/s", flush=True)
            lines += render(phases, args.clients)
            if args.responses:
                lines += await long_run(
                    survey, survey_port, centers, citizens, probe, args.responses
                )
            lines.append(
                f"resident memory (survey, tallier): {memory_start} after the warm-up,"
                f" {memory(survey)} at the end"
            )
    finally:
        await remove(where)
    lines += ["", *(f"{k:<11} {v}" for k, v in machine.items())]
    return "\n".join(lines)


async def long_run(
    survey: psutil.Process,
    port: int,
    centers: list[str],
    citizens: Citizens,
    probe: CpuProbe,
    responses: int,
) -> list[str]:
    lines = ["", f"long run: {responses:,} survey responses, resident memory every tenth"]
    step = max(1, responses // 10)
    done = 0
    started = time.perf_counter()
    while done < responses:
        phase = await one_phase(
            "long", port, centers, citizens, 3600.0, probe, min(step, responses - done)
        )
        done += phase.accepted
        errors = sum(phase.errors.values())
        line = (
            f"  {done:>10,} accepted  {phase.rate:6.0f}/s  errors {errors}"
            f"  resident (survey, tallier) {memory(survey)}"
        )
        print(line, flush=True)
        lines.append(line)
    lines.append(f"  {done:,} in {time.perf_counter() - started:.0f} s")
    return lines


def render(phases: list[Phase], clients: int) -> list[str]:
    lines = [
        f"{clients} clients, one keep-alive connection each; a response = one POST answered 303",
        "",
        f"{'phase':9} {'responses/s':>12} {'p50 ms':>7} {'p95 ms':>7} {'errors':>7}  cores used",
    ]
    for p in phases:
        cores = ", ".join(f"{k} {v:.2f}" for k, v in p.cores.items())
        lag = ""
        if p.tallied is not None and p.tallied.tallied:
            lag = (
                f"  tally lag p50 {p.tallied.lag_quantile(0.5):.2f} s,"
                f" p99 {p.tallied.lag_quantile(0.99):.2f} s"
            )
        lines.append(
            f"{p.name:9} {p.rate:12.0f} {1000 * statistics.median(p.took or [0]):7.1f}"
            f" {1000 * percentile(p.took, 0.95):7.1f} {sum(p.errors.values()):7}  {cores}{lag}"
        )
    survey = statistics.mean(p.rate for p in phases if p.name == "survey")
    baseline = statistics.mean(p.rate for p in phases if p.name == "baseline")
    lines += [
        "",
        f"survey / baseline (means): {survey:.0f} / {baseline:.0f} = {survey / baseline:.2f}"
        " (aims: 0.6 or more, and 2,000/s or more)",
    ]
    errors = sum((Counter(p.errors) for p in phases), Counter[int]())
    if errors:
        lines.append(f"errors by status: {dict(errors)}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.survey", description=__doc__)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=15.0, help="measured a phase")
    parser.add_argument("--rounds", type=int, default=2, help="baseline and survey phases each")
    parser.add_argument("--responses", type=int, default=0, help="then a long run of so many")
    parser.add_argument("--logs", default="/tmp/gecc-bench-survey", help="the processes' logs")
    args = parser.parse_args(argv)
    Path(args.logs).mkdir(parents=True, exist_ok=True)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
