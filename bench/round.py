"""A whole registry reporting at once: how long until every report is scored and every
receipt is in the mail sink.

``python -m bench.round [--concurrency 32] [--count 1343]`` brings the local stack up
(`gecc stack up`), starts from an empty database and topics as `gecc demo` does, runs the
services on the real clock, registers the registry with tokens, opens FY2570-H1, then
sends one report per center in one burst over raw keep-alive HTTP connections. It prints
the time until every report was accepted (the baseline: intake alone), scored, and its
receipt stored by the SMTP sink, each also as a ratio to the baseline, the p50/p99 of the
received → scored lag, the CPU seconds each part of the stack used from the first request
until the last receipt, and the machine. The stack keeps running; `gecc stack down` stops
it.
"""

import argparse
import asyncio
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import psutil

from bench.fixtures import postgres_facts
from bench.load import RawConnection
from bench.machine import CpuProbe, ProcessFinder, describe, listener, with_children
from gecc.demo import DEMO_ROUND, fresh_state, prepare
from gecc.demo_reports import report
from gecc.registry_generator import generate_registry
from gecc.stack import services, stack
from gecc.stack.config import StackConfig
from gecc.stack_client import StackClient
from services.intake.domain.centers import Center
from shared.standards import default_standards_dir, load_catalog
from shared.topics import SERVICES, Topic, TopicNames

REPO = Path(__file__).resolve().parent.parent
DEADLINE_SECONDS = 300
CONSUMED = "gecc_events_consumed_total"


@dataclass
class Burst:
    reports: int
    accepted_s: float = 0.0
    scored_s: float = 0.0
    receipts_s: float = 0.0
    mails_s: float = 0.0
    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    refused: int = 0
    cpu_seconds: dict[str, float] = field(default_factory=dict)


def stack_processes(config: StackConfig) -> dict[str, ProcessFinder]:
    """Each part of the local stack by the port it listens on (with its child processes:
    PostgreSQL's backends, intake's outbox relay)."""
    ports = {
        **{name: config.service_ports[name] for name in SERVICES},
        "mail sink": config.mailsink_port,
        "PMO receiver": config.pmo_port,
        "postgres": config.postgres_port,
        "kafka": config.kafka_port,
    }
    return {name: _found(with_children(listener(port))) for name, port in ports.items()}


def _found(processes: list[psutil.Process]) -> ProcessFinder:
    return lambda: processes


def request_bytes(host: str, token: str, body: bytes) -> bytes:
    head = (
        f"POST /v1/submissions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Idempotency-Key: {uuid4()}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def send_burst(config: StackConfig, requests: list[bytes], concurrency: int) -> int:
    """Every request once, ``concurrency`` at a time; returns how many were refused."""
    host, port = config.service_address("intake").split(":")
    queue = list(reversed(requests))
    refused = 0

    async def worker() -> None:
        nonlocal refused
        connection = RawConnection(host, int(port))
        try:
            while queue:
                if await connection.exchange(queue.pop()) != 201:
                    refused += 1
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return refused


async def scored(config: StackConfig, stack_client: StackClient) -> int:
    """The scores intake has taken in since it started (on the fresh stack, every scored
    version): read from its /metrics, which costs no database query every 50 ms while the
    stack is measured."""
    topic = TopicNames(config.topic_namespace)(Topic.SUBMISSION_SCORED)
    metrics = await stack_client.metrics("intake")
    return int(metrics.total(CONSUMED, topic=topic, outcome="processed"))


RECEIPT_KIND = re.compile(rb"^X-GECC-Kind: receipt\r?$", re.MULTILINE)


def receipts_in(mail_dir: Path, seen: dict[str, bool]) -> int:
    """Receipts stored by the sink so far (each file's head read once, with a search rather
    than the email parser, and the folder listed with ``os.listdir`` rather than a glob: the
    benchmark shares the machine it measures and polls every 50 ms)."""
    for name in os.listdir(mail_dir):
        if name.endswith(".eml") and not name.startswith(".") and name not in seen:
            with (mail_dir / name).open("rb") as file:
                head = file.read(4096).split(b"\r\n\r\n", 1)[0]
            seen[name] = RECEIPT_KIND.search(head) is not None
    return sum(seen.values())


async def consumers_joined(config: StackConfig, within: float = 120.0) -> None:
    """Until every service's Kafka consumers have joined their group: the notifier's receipts
    consumer used to join seconds into the burst. In a real round the services have been
    running for weeks."""
    urls = {name: f"http://{config.service_address(name)}" for name in SERVICES}
    late = await services.consumers_joined(urls, within)
    if late is not None:
        raise SystemExit(f"the {late}'s consumers did not join within {within} s")


async def registry_known(
    config: StackConfig, stack_client: StackClient, count: int, within: float = 120.0
) -> None:
    """Until the notifier and the export have taken in every center's CenterRegistered event
    (their /metrics count the events they consumed since they started, on the fresh stack):
    in a real round the registry was imported weeks before, so the burst is not measured
    while those services still take in 1,343 of them (receipts for centers they do not know
    yet are held until they do)."""
    topic = TopicNames(config.topic_namespace)(Topic.CENTER_REGISTERED)
    deadline = time.monotonic() + within
    for service in ("notifier", "export"):
        while True:
            metrics = await stack_client.metrics(service)
            taken = metrics.by(CONSUMED, "outcome", topic=topic)
            if taken.get("processed", 0) + taken.get("duplicate", 0) >= count:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the {service} did not learn the {count} centers in time")
            await asyncio.sleep(0.1)


async def lag_percentiles(stack_client: StackClient) -> tuple[float, float]:
    """The received -> scored lag's p50 and p99 in milliseconds, as intake shows it."""
    lag = (await stack_client.round_submissions(DEMO_ROUND))["scoring_lag"] or {}
    return 1000 * lag.get("p50_seconds", 0.0), 1000 * lag.get("p99_seconds", 0.0)


async def run(config: StackConfig, count: int, concurrency: int, seed: int) -> Burst:
    stack.up(config, services=False)
    stack.stop_services(config)
    await fresh_state(config)
    for name in ("GECC_CLOCK_SPEED", "GECC_CLOCK_EPOCH", "GECC_CLOCK_START"):
        os.environ.pop(name, None)
    stack.start_services(config)
    centers = generate_registry(count, seed)
    now = datetime.now(UTC)
    tokens, operator = await prepare(config, centers, now)
    async with StackClient(config, operator) as stack_client:
        return await measure(config, stack_client, centers, tokens, concurrency, seed)


async def measure(
    config: StackConfig,
    stack_client: StackClient,
    centers: list[Center],
    tokens: dict[str, str],
    concurrency: int,
    seed: int,
) -> Burst:
    """One report per center in a burst, until every report is scored and mailed."""
    standard = load_catalog(default_standards_dir()).get("gecc-maintenance-2570")
    assert standard is not None
    rng = random.Random(seed)
    host = config.service_address("intake")
    requests = [
        request_bytes(
            host,
            tokens[c.id],
            json.dumps(report(standard, DEMO_ROUND, "good", rng), ensure_ascii=False).encode(),
        )
        for c in centers
    ]
    await consumers_joined(config)
    await registry_known(config, stack_client, len(centers))
    burst = Burst(len(requests))
    seen: dict[str, bool] = {}
    probe = CpuProbe(stack_processes(config))
    before = probe.sample()
    started = time.perf_counter()
    burst.refused = await send_burst(config, requests, concurrency)
    burst.accepted_s = time.perf_counter() - started
    deadline = started + DEADLINE_SECONDS
    while not burst.scored_s or not burst.receipts_s or not burst.mails_s:
        if time.perf_counter() > deadline:
            raise SystemExit(f"not all scored and mailed within {DEADLINE_SECONDS} s")
        elapsed = time.perf_counter() - started
        if (
            not burst.scored_s
            and await scored(config, stack_client) >= len(requests) - burst.refused
        ):
            burst.scored_s = elapsed
        receipts = receipts_in(config.mail_dir, seen)
        if not burst.receipts_s and receipts >= len(requests):
            burst.receipts_s = elapsed
            after = probe.sample()
            wall = after.at - before.at
            burst.cpu_seconds = {
                name: cores * wall for name, cores in probe.cores(before, after).items()
            }
        if not burst.mails_s and len(seen) >= 2 * (len(requests) - burst.refused):
            burst.mails_s = elapsed  # a receipt and a result for every accepted report
        await asyncio.sleep(0.05)
    burst.lag_p50_ms, burst.lag_p99_ms = await lag_percentiles(stack_client)
    return burst


def render(burst: Burst, machine: dict[str, str], concurrency: int) -> str:
    base = burst.accepted_s
    rows = [
        ("all accepted (intake alone: the baseline)", burst.accepted_s, 1.0),
        ("all scored", burst.scored_s, burst.scored_s / base),
        ("all receipts in the mail sink", burst.receipts_s, burst.receipts_s / base),
        ("every e-mail (receipts and results) in it", burst.mails_s, burst.mails_s / base),
    ]
    lines = [
        f"{burst.reports:,} reports in one burst, {concurrency} connections,"
        f" {burst.refused} refused",
        "",
        f"{'':44} {'seconds':>8} {'vs accepted':>12}",
        *(f"{label:44} {seconds:8.2f} {ratio:12.2f}" for label, seconds, ratio in rows),
        "",
        f"received -> scored lag: p50 {burst.lag_p50_ms:.0f} ms, p99 {burst.lag_p99_ms:.0f} ms",
        "",
        "CPU seconds from the first request to the last receipt:",
        "  " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in burst.cpu_seconds.items()),
        "",
        *(f"{key:<11} {value}" for key, value in machine.items()),
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.round", description=__doc__)
    parser.add_argument("--count", type=int, default=1343, help="centers (one report each)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seed", type=int, default=2570)
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    burst = asyncio.run(run(config, args.count, args.concurrency, args.seed))
    postgres = asyncio.run(postgres_facts(config.admin_dsn))
    print(render(burst, describe(postgres, config.kafka_port, REPO), args.concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
