"""The office page of the whole registry (the operator's view) beside intake's completeness
API that it is drawn from, in one run on the running local stack.

``python -m bench.office [--count 1343] [--share 0.7] [--requests 200]`` brings the stack up
on the real clock from an empty database (as ``bench.round`` does), registers ``--count``
generated centers, lets ``--share`` of them report (a burst through ``POST
/v1/submissions``), waits until every report is scored and the machine is quiet, signs an
operator in to the portal as a person does, then alternates, ``--requests`` times each on
one keep-alive connection:

- **page**: ``GET /office/FY2570-H1/PMO`` on the portal (the summary, the offices below PMO,
  the first page of the missing centers), with the operator's session cookie;
- **API**: ``GET /v1/rounds/FY2570-H1/completeness`` with the same query the page sends
  intake (``API_QUERY``), with an operator token.

It prints each one's p50/p95/p99 and the page's p95 over the API's (aim: the page adds under
50 % to the API's time, a ratio under 1.5), and the machine. The stack keeps running.
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.fixtures import postgres_facts
from bench.intake import wait_quiet
from bench.machine import describe
from bench.portal import Connection, get, percentile, sign_in_sessions
from bench.round import consumers_joined, request_bytes, scored, send_burst
from gecc.demo import DEMO_ROUND, STANDARD, fresh_state, prepare
from gecc.demo_portal import OPERATOR_EMAIL
from gecc.demo_reports import pick_profile, report
from gecc.registry_generator import generate_registry
from gecc.stack import stack
from gecc.stack.config import StackConfig
from gecc.stack_client import StackClient
from shared.standards import default_standards_dir, load_catalog

REPO = Path(__file__).resolve().parent.parent
PAGE = f"/office/{DEMO_ROUND}/PMO"
# What the office page asks intake for (services/portal/handlers/offices.py).
API_QUERY = "office=PMO&depth=1&lists=missing&limit=100&offset=0"
QUIET_SECONDS = 300.0
SCORED_WITHIN_SECONDS = 1800.0
CONCURRENCY = 32


@dataclass
class Timings:
    page: list[float] = field(default_factory=list)
    api: list[float] = field(default_factory=list)
    page_bytes: int = 0
    api_bytes: int = 0


async def run(
    config: StackConfig, count: int, share: float, requests: int, quiet_seconds: float
) -> Timings:
    stack.up(config, services=False)
    stack.stop_services(config)
    await fresh_state(config)
    for name in ("GECC_CLOCK_SPEED", "GECC_CLOCK_EPOCH", "GECC_CLOCK_START"):
        os.environ.pop(name, None)
    stack.start_services(config)
    centers = generate_registry(count, 2570)
    tokens, operator = await prepare(config, centers, datetime.now(UTC))
    async with StackClient(config, operator) as stack_client:
        await report_share(config, stack_client, [tokens[c.id] for c in centers], share)
    await asyncio.to_thread(wait_quiet, quiet_seconds)
    (session,) = await sign_in_sessions(config, {"operator": OPERATOR_EMAIL})
    return await alternate(config, session.cookie, operator, requests)


async def report_share(
    config: StackConfig, stack_client: StackClient, tokens: list[str], share: float
) -> None:
    """A share of the centers report (a realistic mix of verdicts), until all are scored."""
    standard = load_catalog(default_standards_dir()).get(STANDARD)
    assert standard is not None
    rng = random.Random(2570)
    host = config.service_address("intake")
    reporting = rng.sample(tokens, k=round(len(tokens) * share))
    bodies = (report(standard, DEMO_ROUND, pick_profile(rng), rng) for _ in reporting)
    burst = [
        request_bytes(host, token, json.dumps(body, ensure_ascii=False).encode())
        for token, body in zip(reporting, bodies, strict=True)
    ]
    await consumers_joined(config)
    started = time.perf_counter()
    refused = await send_burst(config, burst, CONCURRENCY)
    print(f"reports   {len(burst) - refused:,} accepted in {time.perf_counter() - started:.0f} s")
    deadline = time.monotonic() + SCORED_WITHIN_SECONDS
    while await scored(config, stack_client) < len(burst) - refused:
        if time.monotonic() > deadline:
            raise SystemExit(f"the reports were not scored within {SCORED_WITHIN_SECONDS} s")
        await asyncio.sleep(1)
    print(f"scored    all of them after {time.perf_counter() - started:.0f} s", flush=True)


async def alternate(config: StackConfig, cookie: str, token: str, requests: int) -> Timings:
    portal_host, portal_port = config.service_address("portal").split(":")
    intake_host, intake_port = config.service_address("intake").split(":")
    page = Connection(portal_host, int(portal_port))
    api = Connection(intake_host, int(intake_port))
    api_request = (
        f"GET /v1/rounds/{DEMO_ROUND}/completeness?{API_QUERY} HTTP/1.1\r\n"
        f"Host: {intake_host}:{intake_port}\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    timings = Timings()
    try:
        for n in range(requests + 5):  # the first five warm both up
            started = time.perf_counter()
            answer = await page.send(get(portal_host, PAGE, cookie))
            took = time.perf_counter() - started
            if answer.status != 200:
                raise SystemExit(f"the office page answered {answer.status}")
            if n >= 5:
                timings.page.append(took)
            timings.page_bytes = len(answer.body)
            started = time.perf_counter()
            answer = await api.send(api_request)
            took = time.perf_counter() - started
            if answer.status != 200:
                raise SystemExit(f"the completeness API answered {answer.status}")
            if n >= 5:
                timings.api.append(took)
            timings.api_bytes = len(answer.body)
    finally:
        page.close()
        api.close()
    return timings


def render(timings: Timings, count: int, share: float, machine: dict[str, str]) -> str:
    def row(name: str, values: list[float], size: int) -> str:
        return (
            f"{name:5} p50 {1000 * statistics.median(values):7.1f}  p95"
            f" {1000 * percentile(values, 0.95):7.1f}  p99 {1000 * percentile(values, 0.99):7.1f}"
            f" ms  ({size:,} bytes)"
        )

    ratio = percentile(timings.page, 0.95) / percentile(timings.api, 0.95)
    median_ratio = statistics.median(timings.page) / statistics.median(timings.api)
    return "\n".join(
        [
            f"{count:,} centers, {share:.0%} reported; {len(timings.page)} requests each,"
            " alternating, one connection each",
            f"page  GET {PAGE} (portal, operator's session)",
            f"API   GET /v1/rounds/{DEMO_ROUND}/completeness?{API_QUERY} (intake)",
            "",
            row("page", timings.page, timings.page_bytes),
            row("API", timings.api, timings.api_bytes),
            f"page / API: p95 {ratio:.2f}, p50 {median_ratio:.2f} (aim: p95 ratio under 1.5)",
            "",
            *(f"{key:<11} {value}" for key, value in machine.items()),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.office", description=__doc__)
    parser.add_argument("--count", type=int, default=1343, help="centers in the registry")
    parser.add_argument("--share", type=float, default=0.7, help="of them report")
    parser.add_argument("--requests", type=int, default=200, help="of each, measured")
    parser.add_argument(
        "--quiet-seconds",
        type=float,
        default=QUIET_SECONDS,
        help="at most this long waiting for an idle machine before measuring",
    )
    args = parser.parse_args(argv)
    config = StackConfig.from_env()
    timings = asyncio.run(run(config, args.count, args.share, args.requests, args.quiet_seconds))
    postgres = asyncio.run(postgres_facts(config.admin_dsn))
    print(render(timings, args.count, args.share, describe(postgres, config.kafka_port, REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
