"""Benchmark of ``POST /v1/submissions``: accepted submissions per second and p50/p99 latency
of the real intake service beside two baselines measured in the same run:

- A hello: a bare ASGI app answering 200 ``ok`` (the server's own ceiling);
- B durable: a bare ASGI app that validates the same body with the same pydantic model and
  writes a submission row and an outbox row in one durable transaction (the floor of what
  a durable submission costs);
- intake: ``python -m services.intake`` started as the launcher starts it.

Each target runs as ``--workers`` server processes (uvicorn, one process each, on its own
port; the generator spreads its connections over them), and the load generator runs as a
separate process (``bench.load``). Usage::

    .venv/bin/python -m bench.intake [--concurrency 32] [--seconds 10] [--workers 1]

See ``docs/benchmarks.md`` for what is measured and the results.
"""

import argparse
import asyncio
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
import psutil

from bench import fixtures
from bench.fixtures import BenchDatabase
from bench.load import LoadResult, LoadSpec
from bench.machine import CpuProbe, describe, listener, with_children
from bench.report import A_NAME, B_NAME, WHATIF_NAME, Measured, render

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PATH = "/v1/submissions"
TARGETS = ("a", "b", "b-notify", "b-trips", "intake", "whatif")
DEFAULT_TARGETS = ("a", "b", "intake")
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
INTAKE_COMMAND = (sys.executable, "-m", "services.intake")
DESCRIPTION = (
    "Accepted submissions per second and p50/p99 latency of intake's POST /v1/submissions"
    " beside a bare ASGI app (A) and a minimal durable write (B), measured in the same run."
    " --quiet-wait waits before each target until under 0.3 cores are busy."
    " --server-path helps what-if runs (e.g. a directory holding uvloop and httptools);"
    " --intake-command replaces `python -m services.intake`; the `whatif` target runs"
    " `python -m bench.whatif WHATIF` (alternate it with `intake` to compare, e.g."
    " --targets intake,whatif,intake,whatif --whatif='--env NAME=VALUE')."
)
QUIET_CORES = 0.3


@dataclass(frozen=True)
class Options:
    concurrency: int
    seconds: float
    warmup: float
    workers: int
    centers: int
    client: str
    targets: tuple[str, ...]
    admin_url: str
    kafka: str
    database: str
    json_path: Path | None
    quiet_wait: float
    server_path: str
    intake_command: tuple[str, ...]
    whatif: str
    trips: int


@dataclass(frozen=True)
class Prepared:
    db: BenchDatabase
    tokens: list[str]
    body: str
    postgres: dict[str, str]


@dataclass(frozen=True)
class Target:
    name: str
    expect: int
    argv: Callable[[int], list[str]]
    env: Callable[[int], dict[str, str]]
    needs_kafka: bool = False


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.intake", description=DESCRIPTION)
    add = parser.add_argument
    add("--concurrency", type=int, default=32, help="concurrent connections (default 32)")
    add("--seconds", type=float, default=10.0, help="measured seconds (default 10)")
    add("--warmup", type=float, default=2.0, help="warm-up seconds, not counted (default 2)")
    add("--workers", type=int, default=1, help="server processes per target (default 1)")
    add("--centers", type=int, default=2000, help="centers the requests rotate over")
    add("--client", choices=["raw", "httpx"], default="raw", help="load generator client")
    add("--targets", default=",".join(DEFAULT_TARGETS), help=f"from {','.join(TARGETS)}")
    add("--admin-url", default=os.environ.get("GECC_DATABASE_URL", DEFAULT_ADMIN_URL))
    add("--kafka", default=os.environ.get("GECC_KAFKA_BOOTSTRAP", "127.0.0.1:9092"))
    add("--database", default="gecc_bench", help="recreated on every run")
    add("--json", dest="json_path", type=Path, help="also write the results here")
    add("--quiet-wait", type=float, default=60.0, help="seconds to wait for an idle machine")
    add("--server-path", default="", help="prepended to PYTHONPATH of every server process")
    add("--intake-command", default="", help="start intake with this instead (what-if runs)")
    add("--whatif", default="", help="bench.whatif flags of the `whatif` target")
    add("--trips", type=int, default=11, help="round trips per request of the `b-trips` target")
    return parser


def parse_args(argv: list[str] | None) -> Options:
    parser = _parser()
    args = parser.parse_args(argv)
    targets = tuple(t.strip() for t in args.targets.split(",") if t.strip())
    if not targets or set(targets) - set(TARGETS):
        parser.error(f"--targets takes a comma list of {', '.join(TARGETS)}")
    if args.workers < 1 or args.concurrency < 1 or args.seconds <= 0:
        parser.error("--workers and --concurrency must be at least 1, --seconds above 0")
    if args.trips != B_ROUND_TRIPS and args.trips < B_ROUND_TRIPS + 2:
        parser.error(f"--trips is {B_ROUND_TRIPS} or at least {B_ROUND_TRIPS + 2}")
    command = tuple(shlex.split(args.intake_command)) or INTAKE_COMMAND
    return Options(**{**vars(args), "targets": targets, "intake_command": command})


async def prepare(options: Options) -> Prepared:
    db = BenchDatabase(options.admin_url, options.database)
    await fixtures.recreate(db, options.kafka)
    tokens = await fixtures.enrol(db, options.centers)
    return Prepared(db, tokens, fixtures.request_body(), await fixtures.server_facts(db))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_env(options: Options, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, **(extra or {})}
    if options.server_path:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (options.server_path, env.get("PYTHONPATH", "")) if p
        )
    return env


B_ROUND_TRIPS = 5  # BEGIN, two INSERTs, COMMIT, the pool's reset query on release


def baselines(options: Options) -> dict[str, tuple[str, int, list[str]]]:
    padding = str(options.trips - B_ROUND_TRIPS)
    return {
        "a": (A_NAME, 200, ["hello"]),
        "b": (B_NAME, 201, ["durable"]),
        "b-notify": ("B+notify", 201, ["durable", "--notify"]),
        "b-trips": (f"B {options.trips} trips", 201, ["durable", "--padding", padding]),
    }


def baseline(key: str, options: Options, prepared: Prepared) -> Target:
    name, expect, args = baselines(options)[key]
    dsn = [] if key == "a" else ["--dsn", prepared.db.superuser_url]
    return Target(
        name,
        expect,
        lambda port: [sys.executable, "-m", "bench.servers", *args, "--port", str(port), *dsn],
        lambda _: server_env(options),
    )


def intake(key: str, options: Options, prepared: Prepared) -> Target:
    """Intake as the launcher starts it, or (``whatif``) through ``bench.whatif``."""

    def env(port: int) -> dict[str, str]:
        return server_env(
            options,
            {
                "GECC_KAFKA_BOOTSTRAP": options.kafka,
                "GECC_TOPIC_NAMESPACE": fixtures.NAMESPACE,
                "GECC_INTAKE_DATABASE_URL": prepared.db.intake_url,
                "GECC_INTAKE_HTTP_HOST": HOST,
                "GECC_INTAKE_HTTP_PORT": str(port),
            },
        )

    if key == "whatif":
        whatif = [sys.executable, "-m", "bench.whatif", *shlex.split(options.whatif)]
        return Target(WHATIF_NAME, 201, lambda _: whatif, env, needs_kafka=True)
    return Target("intake", 201, lambda _: list(options.intake_command), env, needs_kafka=True)


def build_targets(options: Options, prepared: Prepared) -> list[Target]:
    return [
        intake(key, options, prepared)
        if key in ("intake", "whatif")
        else baseline(key, options, prepared)
        for key in options.targets
    ]


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-3000:]


def wait_ready(target: Target, port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    """``GET /health`` answers 200 (and, for intake, Kafka is connected)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{target.name} exited with {process.returncode}:\n{_tail(log)}")
        try:
            answer = httpx.get(f"http://{HOST}:{port}/health", timeout=2)
            if answer.status_code == 200 and (
                not target.needs_kafka or answer.json().get("kafka") == "ok"
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{target.name} on :{port} not ready within 60 s:\n{_tail(log)}")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serving(
    target: Target, ports: list[int], logs: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The target's server processes, one per port, ready; stopped afterwards."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            log = logs / f"{target.name.split()[0]}-{port}.log"
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        target.argv(port),
                        cwd=REPO,
                        env=target.env(port),
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )
            wait_ready(target, port, processes[-1], log)
        yield processes
    finally:
        stop(processes)


def make_probe(servers: list[int], generator: int, postgres: int, kafka: int) -> CpuProbe:
    postmaster, broker = listener(postgres), listener(kafka)
    server_processes = [psutil.Process(pid) for pid in servers]
    generator_process = [psutil.Process(generator)]
    return CpuProbe(
        {
            "generator": lambda: generator_process,
            "server": lambda: server_processes,
            "postgres": lambda: with_children(postmaster),
            "kafka": lambda: [broker] if broker else [],
        }
    )


def _read_run(out: IO[str], probe: CpuProbe) -> tuple[LoadResult, dict[str, float]]:
    samples = {}
    result: LoadResult | None = None
    for line in out:
        message: dict[str, Any] = json.loads(line)
        if message.get("event") in ("start", "end"):
            samples[message["event"]] = probe.sample()
        elif "result" in message:
            result = LoadResult(**message["result"])
    if result is None or set(samples) != {"start", "end"}:
        raise RuntimeError("the load generator ended without a result")
    return result, CpuProbe.cores(samples["start"], samples["end"])


def generate(
    spec: LoadSpec, servers: list[int], infra_ports: tuple[int, int], log: Path
) -> tuple[LoadResult, dict[str, float]]:
    """Run ``bench.load`` as its own process; sample CPU use when its window opens and closes."""
    with log.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.load"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        probe = make_probe(servers, process.pid, *infra_ports)
        process.stdin.write(json.dumps(asdict(spec)))
        process.stdin.close()
        outcome = _read_run(process.stdout, probe)
        if process.wait(30) != 0:
            raise RuntimeError(f"exit status {process.returncode}")
    except BaseException as error:
        process.kill()
        process.wait()
        if isinstance(error, Exception):
            raise RuntimeError(f"the load generator failed ({error}):\n{_tail(log)}") from error
        raise
    return outcome


def _port(url: str, default: int) -> int:
    return urlsplit(url if "//" in url else f"//{url}").port or default


def measure(target: Target, options: Options, prepared: Prepared, logs: Path) -> Measured:
    ports = [free_port() for _ in range(options.workers)]
    spec = LoadSpec(
        ports=ports,
        path=PATH,
        body=prepared.body,
        tokens=prepared.tokens,
        concurrency=options.concurrency,
        warmup=options.warmup,
        seconds=options.seconds,
        expect=target.expect,
        client=options.client,
        host=HOST,
    )
    infra_ports = (_port(options.admin_url, 5432), _port(options.kafka, 9092))
    background = wait_quiet(options.quiet_wait)
    with serving(target, ports, logs) as processes:
        pids = [p.pid for p in processes]
        load, cpu = generate(spec, pids, infra_ports, logs / "generator.log")
    return Measured(target.name, target.expect, load, {**cpu, "background": background})


def background_load(seconds: float = 1.0) -> float:
    """Cores busy on the machine over ``seconds`` (nothing of the benchmark running)."""
    probe = CpuProbe({})
    before = probe.sample()
    time.sleep(seconds)
    return CpuProbe.cores(before, probe.sample())["machine"]


def wait_quiet(limit: float, threshold: float = QUIET_CORES) -> float:
    """Wait up to ``limit`` seconds for the machine to idle; return the last background load."""
    deadline = time.monotonic() + limit
    busy = background_load()
    while busy > threshold and time.monotonic() < deadline:
        print(f"waiting for a quiet machine: {busy:.2f} cores busy", file=sys.stderr)
        busy = background_load(2.0)
    return busy


def settings_line(options: Options, when: datetime) -> str:
    line = (
        f"POST {PATH} | {when:%Y-%m-%d %H:%M} UTC | {options.concurrency} connections,"
        f" {options.warmup:g} s warm-up + {options.seconds:g} s measured |"
        f" {options.workers} server process(es) per target | {options.client} client |"
        f" {options.centers} centers"
    )
    if options.server_path:
        line += f"\nserver PYTHONPATH += {options.server_path}"
    if options.intake_command != INTAKE_COMMAND:
        line += f"\nintake started as: {shlex.join(options.intake_command)}"
    if "whatif" in options.targets:
        line += f"\nwhat-if: python -m bench.whatif {options.whatif}"
    return line


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    when = datetime.now(UTC)
    prepared = asyncio.run(prepare(options))
    machine = describe(prepared.postgres, _port(options.kafka, 9092), REPO)
    with tempfile.TemporaryDirectory(prefix="gecc-bench-") as logs:
        results = [
            measure(t, options, prepared, Path(logs)) for t in build_targets(options, prepared)
        ]
    print(render(settings_line(options, when), results, machine))
    if options.json_path is not None:
        document = {
            "settings": {k: str(v) for k, v in asdict(options).items() if k != "admin_url"},
            "date": when.isoformat(),
            "machine": machine,
            "results": [asdict(r) for r in results],
        }
        options.json_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
