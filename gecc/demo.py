"""`gecc demo`: the local stack, the 1,343-center registry and a round of reports through it."""

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import asyncpg
import httpx

from gecc.demo_reports import pick_profile, report
from gecc.stack.config import StackConfig
from services.intake import admin
from services.intake.domain.centers import Center
from services.intake.domain.registry import generate_registry
from services.notifier import admin as notifier_admin
from services.notifier.domain.recipients_file import demo_recipients
from shared.database import connect, create_pool
from shared.standards import Standard, default_standards_dir, load_catalog

DEMO_ROUND = "FY2570-H1"
STANDARD = "gecc-maintenance-2570"
SCORING_DEADLINE_SECONDS = 300
DELIVERY_DEADLINE_SECONDS = 120

Job = tuple[str, dict[str, Any]]

VERSIONS_SINCE = """
    FROM submission_versions v JOIN submissions s ON s.id = v.submission_id
    WHERE s.round_id = $1 AND v.received_at >= $2
"""


@dataclass
class DemoResult:
    centers: int
    submitting: int
    amended: int
    operator_token: str
    posted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    post_seconds: float = 0.0
    scored_seconds: float = 0.0
    verdicts: dict[str, int] = field(default_factory=dict)
    lag_p50_ms: float = 0.0
    lag_p99_ms: float = 0.0
    example_submission: str = ""
    messages: dict[str, int] = field(default_factory=dict)
    messages_pending: int = 0


async def run_demo(config: StackConfig, count: int, share: float, seed: int) -> DemoResult:
    rng = random.Random(seed)
    standard = _standard()
    centers = generate_registry(count, seed)
    pool = await create_pool(config.service_dsn("intake"), max_size=4)
    try:
        tokens, operator = await _prepare(config, pool, centers)
        submitting = rng.sample(sorted(tokens), k=round(len(tokens) * share))
        amending = rng.sample(submitting, k=len(submitting) // 10)
        print(f"registry  {len(centers)} centers registered with tokens; {DEMO_ROUND} is open")
        jobs = [_job(tokens[c], standard, pick_profile(rng), rng) for c in submitting]
        jobs += [_job(tokens[c], standard, "good", rng) for c in amending]
        result = DemoResult(len(centers), len(submitting), len(amending), operator)
        started, since = time.perf_counter(), datetime.now(UTC)
        base = f"http://{config.service_address('intake')}"
        ids = await _post_all(base, jobs, result)
        result.post_seconds = time.perf_counter() - started
        result.example_submission = f"{base}/v1/submissions/{ids[0]}" if ids else ""
        await _wait_scored(pool, since, result.posted)
        result.scored_seconds = time.perf_counter() - started
        await _summarise(pool, since, result)
        await _wait_delivered(config, since, result)
        return result
    finally:
        await pool.close()


def _standard() -> Standard:
    standard = load_catalog(default_standards_dir()).get(STANDARD)
    assert standard is not None, f"standard {STANDARD} is missing from standards/"
    return standard


def _job(token: str, standard: Standard, profile: str, rng: random.Random) -> Job:
    return token, report(standard, DEMO_ROUND, profile, rng)


async def _prepare(
    config: StackConfig, pool: asyncpg.Pool, centers: Sequence[Center]
) -> tuple[dict[str, str], str]:
    now = datetime.now(UTC)
    notifier = await connect(config.service_dsn("notifier"))
    try:
        recipients = demo_recipients(c.office_path for c in centers)
        await notifier_admin.import_recipients(notifier, recipients)
    finally:
        await notifier.close()
    async with pool.acquire() as conn, conn.transaction():
        await admin.register_centers(conn, centers)
        tokens = {
            c.id: (await admin.issue_token(conn, "center", center_id=c.id)).token for c in centers
        }
        operator = (await admin.issue_token(conn, "operator", label="demo operator")).token
        await admin.set_round_dates(
            conn,
            DEMO_ROUND,
            now - timedelta(days=1),
            now + timedelta(days=7),
            now + timedelta(days=21),
        )
    return tokens, operator


async def _post_all(
    base: str, jobs: list[Job], result: DemoResult, concurrency: int = 32
) -> list[str]:
    queue: asyncio.Queue[Job] = asyncio.Queue()
    for job in jobs:
        queue.put_nowait(job)
    ids: list[str] = []
    step = max(1, len(jobs) // 5)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            token, body = queue.get_nowait()
            response = await client.post(
                "/v1/submissions",
                json=body,
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())},
            )
            status = response.status_code
            if status != 201:
                result.refused[status] = result.refused.get(status, 0) + 1
                continue
            result.posted += 1
            ids.append(response.json()["submission_id"])
            if result.posted % step == 0:
                print(f"submitted {result.posted}/{len(jobs)}", flush=True)

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return ids


async def _wait_scored(pool: asyncpg.Pool, since: datetime, expected: int) -> None:
    deadline = time.monotonic() + SCORING_DEADLINE_SECONDS
    scored = -1
    while time.monotonic() < deadline:
        scored = await pool.fetchval(
            f"SELECT count(*) {VERSIONS_SINCE} AND v.status = 'scored'", DEMO_ROUND, since
        )
        if scored >= expected:
            return
        await asyncio.sleep(0.25)
    raise RuntimeError(
        f"only {scored} of {expected} submissions were scored within {SCORING_DEADLINE_SECONDS} s"
    )


async def _summarise(pool: asyncpg.Pool, since: datetime, result: DemoResult) -> None:
    rows = await pool.fetch(
        """
        SELECT DISTINCT ON (s.id) v.verdict FROM submissions s
        JOIN submission_versions v ON v.submission_id = s.id
        WHERE s.round_id = $1 ORDER BY s.id, v.version DESC
        """,
        DEMO_ROUND,
    )
    for row in rows:
        verdict = row["verdict"] or "not scored"
        result.verdicts[verdict] = result.verdicts.get(verdict, 0) + 1
    lags = await pool.fetchrow(
        f"""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99
        FROM (SELECT extract(epoch FROM v.scored_at - v.received_at) * 1000 AS lag
              {VERSIONS_SINCE}) lags
        """,
        DEMO_ROUND,
        since,
    )
    assert lags is not None
    result.lag_p50_ms = float(lags["p50"] or 0)
    result.lag_p99_ms = float(lags["p99"] or 0)


async def _wait_delivered(config: StackConfig, since: datetime, result: DemoResult) -> None:
    """Until the notifier has sent the round's messages (receipts, results) to the SMTP sink."""
    conn = await connect(config.service_dsn("notifier"))
    try:
        deadline = time.monotonic() + DELIVERY_DEADLINE_SECONDS
        while True:
            rows = await conn.fetch(
                "SELECT kind, status, count(*) AS n FROM deliveries WHERE created_at >= $1"
                " GROUP BY kind, status",
                since,
            )
            result.messages = {}
            result.messages_pending = 0
            for row in rows:
                if row["status"] == "pending":
                    result.messages_pending += row["n"]
                else:
                    key = f"{row['kind']} {row['status']}"
                    result.messages[key] = result.messages.get(key, 0) + row["n"]
            queued = result.messages_pending + sum(result.messages.values())
            if (queued >= 2 * result.posted and not result.messages_pending) or (
                time.monotonic() > deadline
            ):
                return
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
