"""Evidence files uploaded through intake beside the same bytes put straight to the S3
server, in one run on the running local stack.

``python -m bench.evidence [--clients 32] [--megabytes 5] [--seconds 10] [--rounds 2]``
brings the stack up on the real clock from an empty database (as ``bench.round`` does),
registers ``--clients`` centers with the round open, then measures in turn, ``--rounds``
times each, ``--clients`` concurrent clients each sending files of ``--megabytes`` MiB on
its own keep-alive connection:

- **intake**: ``POST /v1/rounds/FY2570-H1/items/{item}/evidence`` with a center's token (a
  PDF: distinct bytes each time, so nothing is deduplicated; each client its own center,
  its items in turn, within the limits of 20 files an item and the round's quota);
- **direct**: ``PutObject`` of the same bytes straight to the S3 server (S3Proxy), signed,
  one request each, through aiobotocore's pool of as many connections.

It prints files (and MiB) per second of each, intake's over direct (aim: 0.7 or more),
their p50/p95, and intake's resident memory (every process of it) before the first phase
and at its highest (aim: it grows by less than 64 MiB), and the machine.
"""

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import psutil

from bench.fixtures import postgres_facts
from bench.intake import wait_quiet
from bench.machine import describe, listener, with_children
from bench.portal import Connection, percentile
from gecc.demo import DEMO_ROUND, STANDARD, fresh_state, prepare
from gecc.registry_generator import generate_registry
from gecc.stack import stack
from gecc.stack.config import StackConfig
from shared.object_storage import ObjectStorage, ObjectStorageConfig, ObjectStorageError
from shared.standards import default_standards_dir, load_catalog

REPO = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
QUIET_SECONDS = 120.0
RAISED_BUDGETS = {
    "GECC_INTAKE_RATE_LIMIT_BURST": "100000",
    "GECC_INTAKE_RATE_LIMIT_PER_MINUTE": "100000",
    "GECC_INTAKE_EVIDENCE_QUOTA_MIB": "100000",
}
FILES_PER_ITEM = 20


@dataclass
class Phase:
    name: str
    seconds: float
    files: int = 0
    bytes: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.files / self.seconds


class Memory:
    """Intake's resident memory (all its processes), sampled while the phases run."""

    def __init__(self, port: int) -> None:
        self._processes = with_children(listener(port))
        self.before = self.rss()
        self.highest = self.before

    def rss(self) -> int:
        total = 0
        for process in self._processes:
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    async def watch(self) -> None:
        while True:
            self.highest = max(self.highest, self.rss())
            await asyncio.sleep(0.2)


def payload(size: int) -> bytearray:
    """A PDF's bytes: the magic intake decides the type by, then noise."""
    body = bytearray(os.urandom(size))
    body[:9] = b"%PDF-1.7\n"
    return body


def distinct(body: bytearray, n: int) -> bytes:
    """The same file made unique (its SHA-256 differs), without a new allocation per file's
    worth of random bytes."""
    body[9:25] = uuid4().bytes
    body[25:33] = n.to_bytes(8, "big")
    return bytes(body)


async def intake_client(
    config: StackConfig,
    token: str,
    items: list[str],
    sent: dict[str, int],
    size: int,
    phase: Phase,
    end: float,
) -> None:
    """``sent``: files each token has sent in earlier phases (an item takes 20)."""
    host, port = config.service_address("intake").split(":")
    connection = Connection(host, int(port))
    body = payload(size)
    try:
        while time.perf_counter() < end:
            n = sent.get(token, 0)
            item = items[(n // FILES_PER_ITEM) % len(items)]
            n = sent[token] = n + 1
            head = (
                f"POST /v1/rounds/{DEMO_ROUND}/items/{item}/evidence?name=minutes-{n}.pdf"
                f" HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/pdf\r\nContent-Length: {size}\r\n\r\n"
            )
            started = time.perf_counter()
            answer = await connection.send(head.encode() + distinct(body, n))
            if answer.status not in (200, 201):
                key = f"{answer.status} {answer.body[:120]!r}"
                phase.errors[key] = phase.errors.get(key, 0) + 1
                continue
            if time.perf_counter() < end:
                phase.latencies.append(time.perf_counter() - started)
                phase.files += 1
                phase.bytes += size
    finally:
        connection.close()


async def direct_client(storage: ObjectStorage, size: int, phase: Phase, end: float) -> None:
    body = payload(size)
    n = 0
    while time.perf_counter() < end:
        n += 1
        data = distinct(body, n)

        async def one_chunk(data: bytes = data) -> AsyncIterator[bytes]:
            yield data

        started = time.perf_counter()
        try:
            await storage.put(f"bench/{uuid4()}", one_chunk(), "application/pdf")
        except ObjectStorageError as error:
            key = type(error).__name__
            phase.errors[key] = phase.errors.get(key, 0) + 1
            continue
        if time.perf_counter() < end:
            phase.latencies.append(time.perf_counter() - started)
            phase.files += 1
            phase.bytes += size


async def run(
    config: StackConfig, clients: int, size: int, seconds: float, rounds: int
) -> tuple[list[Phase], Memory]:
    stack.up(config, services=False)
    stack.stop_services(config)
    await fresh_state(config)
    for name in ("GECC_CLOCK_SPEED", "GECC_CLOCK_EPOCH", "GECC_CLOCK_START"):
        os.environ.pop(name, None)
    os.environ.update(RAISED_BUDGETS)
    stack.start_services(config)
    centers = generate_registry(clients, 2570)
    tokens, _ = await prepare(config, centers, datetime.now(UTC))
    standard = load_catalog(default_standards_dir()).get(STANDARD)
    assert standard is not None
    items = [item.code for item in standard.items]
    storage_config = ObjectStorageConfig(
        endpoint=config.s3_endpoint,
        bucket=config.s3_bucket,
        access_key=config.s3_access_key,
        secret_key=config.s3_secret_key,
        region=config.s3_region,
        max_connections=clients,
    )
    await asyncio.to_thread(wait_quiet, QUIET_SECONDS)
    memory = Memory(config.service_ports["intake"])
    watcher = asyncio.create_task(memory.watch())
    phases = []
    sent: dict[str, int] = {}
    try:
        async with ObjectStorage(storage_config) as storage:
            for _ in range(rounds):
                for name in ("direct", "intake"):
                    phase = Phase(name, seconds)
                    end = time.perf_counter() + seconds
                    if name == "direct":
                        jobs = [direct_client(storage, size, phase, end) for _ in range(clients)]
                    else:
                        jobs = [
                            intake_client(config, tokens[c.id], items, sent, size, phase, end)
                            for c in centers
                        ]
                    await asyncio.gather(*jobs)
                    phases.append(phase)
                    print(
                        f"{name:7} {phase.rate:6.1f} files/s  errors {phase.errors or 0}",
                        flush=True,
                    )
    finally:
        watcher.cancel()
    return phases, memory


def render(
    phases: list[Phase], memory: Memory, clients: int, size: int, machine: dict[str, str]
) -> str:
    lines = [
        f"{clients} concurrent clients, files of {size / MIB:g} MiB, one connection each",
        "",
        f"{'phase':8} {'files/s':>8} {'MiB/s':>7} {'p50 ms':>7} {'p95 ms':>7} errors",
    ]
    for phase in phases:
        p50 = 1000 * statistics.median(phase.latencies) if phase.latencies else 0.0
        p95 = 1000 * percentile(phase.latencies, 0.95) if phase.latencies else 0.0
        lines.append(
            f"{phase.name:8} {phase.rate:8.1f} {phase.bytes / MIB / phase.seconds:7.1f}"
            f" {p50:7.0f} {p95:7.0f} {sum(phase.errors.values())}"
        )
    intake = statistics.mean(p.rate for p in phases if p.name == "intake")
    direct = statistics.mean(p.rate for p in phases if p.name == "direct")
    grew = (memory.highest - memory.before) / MIB
    lines += [
        "",
        f"intake / direct (means): {intake:.1f} / {direct:.1f} = {intake / direct:.2f}"
        " (aim: 0.7 or more)",
        f"intake's resident memory: {memory.before / MIB:.0f} MiB before,"
        f" {memory.highest / MIB:.0f} MiB at most: grew {grew:.0f} MiB (aim: under 64)",
        "",
        *(f"{key:<11} {value}" for key, value in machine.items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--megabytes", type=float, default=5.0, help="each file's size in MiB")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured a phase")
    parser.add_argument("--rounds", type=int, default=2, help="direct and intake phases each")
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    size = int(args.megabytes * MIB)
    phases, memory = asyncio.run(run(config, args.clients, size, args.seconds, args.rounds))
    postgres = asyncio.run(postgres_facts(config.admin_dsn))
    print(render(phases, memory, args.clients, size, describe(postgres, config.kafka_port, REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
