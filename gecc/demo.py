"""`gecc demo`: a whole GECC round on the local stack in a few minutes of real time.

The services run on an accelerated clock (one virtual day in ``DAY_SECONDS`` real seconds).
The demo starts from an empty database and empty topics, registers the 1,343-center
registry with tokens and a recipient per parent office, opens FY2570-H1 due in 15 virtual
days and closing 5 days later, and sends the centers' reports at their moments: most on
time (more of them near the deadline), some amended, some late; the rest never report. The
notifier reminds those (14, 7 and 1 days before due), sends overdue notices and the close
summaries; the export delivers the round to the reference PMO receiver and reconciles it.
"""

import asyncio
import os
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from aiokafka.admin import AIOKafkaAdminClient

from gecc.bootstrap import ensure_topics, quote_ident
from gecc.demo_portal import (
    DEMO_OFFICE,
    HANDS_ON_ROUND,
    SignInLink,
    back_to_real_time,
    demo_accounts,
    everyone_links,
    office_and_operator_links,
    office_sample,
)
from gecc.demo_reports import pick_profile, report
from gecc.demo_schedule import at_their_moments, until
from gecc.demo_survey import (
    ANSWER_WITHIN,
    CITIZENS_PER_CENTER,
    REPORT_AT,
    SURVEY_CENTERS,
    SurveyResult,
    citizens_answer,
    plan_citizens,
    report_from_survey,
    survey_centers,
    survey_page,
)
from gecc.registry_generator import generate_registry, generated_offices
from gecc.stack import stack
from gecc.stack.config import SUPERUSER, StackConfig
from gecc.stack.database import prepare_database
from gecc.stack_client import StackClient
from services.intake import admin
from services.intake.domain.centers import Center
from services.intake.handlers import accounts, offices
from services.notifier import admin as notifier_admin
from services.notifier.domain.recipients_file import demo_recipients
from shared.clock import Clock, build_clock
from shared.database import connect
from shared.standards import Standard, default_standards_dir, load_catalog
from shared.topics import TopicNames

DEMO_ROUND = "FY2570-H1"
STANDARD = "gecc-maintenance-2570"
DAY_SECONDS = 4.0
DAY = timedelta(days=1)
DUE_IN = 15 * DAY
CLOSE_AFTER_DUE = 5 * DAY
LATE_SHARE = 0.07  # of the centers that report
AMEND_SHARE = 0.10
FINISH_DEADLINE_SECONDS = 300
LEAD = 3 * DAY
CONCURRENCY = 16
# The accelerated timeline starts this far in the past, so that the round has closed (in
# real time too) when the demo ends and the services go back to the real clock: its pages
# then show it as it is, closed, rather than as a round that opens in three weeks.
HEADSTART = 30 * DAY
# The notifier's metrics the demo reads (services/notifier/metrics.py).
ROUND_DUE = "gecc_round_clock_due_timestamp_seconds"
IN_LEDGER = "gecc_notifications_in_ledger"


@dataclass(frozen=True)
class Job:
    at: timedelta  # after the round's start, in virtual time
    center_id: str
    body: dict[str, Any]


@dataclass
class DemoResult:
    centers: int
    operator_token: str
    round_started: datetime
    due_at: datetime
    closes_at: datetime
    real_seconds: float = 0.0
    posted: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    submitted: int = 0
    late: int = 0
    amended: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    messages_pending: int = 0
    export: dict[str, Any] = field(default_factory=dict)
    example_submission: str = ""
    hands_on_due: datetime | None = None
    sign_in_links: list[SignInLink] = field(default_factory=list)
    survey: SurveyResult = field(default_factory=SurveyResult)
    # the hands-on center's survey page (a phone opens it) and its poster in the portal
    survey_page: str = ""
    poster: str = ""


async def run_demo(config: StackConfig, count: int, share: float, seed: int) -> DemoResult:
    started = time.perf_counter()
    stack.up(config, services=False)
    stack.stop_services(config)
    await fresh_state(config)
    epoch = datetime.now(UTC)
    start_at = epoch - HEADSTART
    os.environ.update(
        GECC_CLOCK_SPEED=str(86_400 / DAY_SECONDS),
        GECC_CLOCK_EPOCH=epoch.isoformat(),
        GECC_CLOCK_START=start_at.isoformat(),
    )
    stack.start_services(config)
    clock = build_clock(86_400 / DAY_SECONDS, start_at, epoch=epoch)
    rng = random.Random(seed)
    centers = generate_registry(count, seed)
    # The round starts a little ahead, once the notifier surely has its dates: its consumers
    # may still be joining their group right after the services started.
    start = clock.now() + LEAD
    tokens, operator = await prepare(config, centers, start)
    async with StackClient(config, operator) as stack_client:
        await round_known(stack_client, start + DUE_IN)
        watch = await office_and_operator_links(config, DEMO_ROUND)
        print(_watch_now(config, watch), flush=True)
        result = DemoResult(
            count, operator, start, start + DUE_IN, start + DUE_IN + CLOSE_AFTER_DUE
        )
        # Citizens answer the survey of a few centers under the demo's office; one of them
        # reports with the survey's figures instead of its own.
        sampled = survey_centers(centers, office_sample(centers), SURVEY_CENTERS)
        from_survey = sampled[1]
        jobs = [j for j in plan(centers, share, _standard(), rng) if j.center_id != from_survey.id]
        citizens = plan_citizens(sampled, CITIZENS_PER_CENTER, ANSWER_WITHIN, rng)
        survey_url = f"http://{config.service_address('survey')}"
        result.survey.centers = [c.id for c in sampled]
        result.survey_page = survey_page(survey_url, sampled[0].id)
        result.poster = f"{config.portal_url}/centers/{sampled[0].id}/poster.pdf"
        print(
            f"round     {DEMO_ROUND}: {len(centers):,} centers, {len(jobs) + 1:,} reports to send;"
            f" one virtual day = {DAY_SECONDS:g} s, due on day 15, closes on day 20",
            flush=True,
        )
        print(
            f"survey    {len(citizens)} citizens answer the survey of"
            f" {', '.join(result.survey.centers)} on their phones in the round's first"
            f" {ANSWER_WITHIN.days} days; {from_survey.id} reports with the survey's figures",
            flush=True,
        )

        async def survey_report() -> None:
            await until(clock, start + REPORT_AT)
            await report_from_survey(
                stack_client,
                f"http://{config.service_address('intake')}",
                tokens[from_survey.id],
                from_survey.id,
                DEMO_ROUND,
                _standard(),
                rng,
                result.survey,
            )
            result.posted += 1 if result.survey.report_responses else 0

        progress = asyncio.create_task(show_progress(stack_client, clock, result))
        try:
            await asyncio.gather(
                send_all(config, clock, start, jobs, tokens, result),
                citizens_answer(survey_url, clock, start, citizens, rng, result.survey),
                survey_report(),
            )
            await until(clock, result.closes_at)
            await wait_finished(stack_client, result)
        finally:
            progress.cancel()
        await summarise(stack_client, result)
        result.real_seconds = time.perf_counter() - started
        print(
            f"portal    the services go back to real time; {HANDS_ON_ROUND} opens for you to"
            " report by hand in the portal",
            flush=True,
        )
        result.hands_on_due = await back_to_real_time(config, stack_client)
        result.sign_in_links = await everyone_links(config, centers, DEMO_ROUND)
    return result


def _watch_now(config: StackConfig, links: Sequence[SignInLink]) -> str:
    lines = [
        f"watch     open a link now to watch {DEMO_OFFICE}'s units report (the page updates"
        " itself):",
        *(f"          {link.who}: {link.link}" for link in links),
        f"          (portal http://{config.service_address('portal')}; each link works once;"
        " fresh ones at the end)",
    ]
    return "\n".join(lines)


async def fresh_state(config: StackConfig) -> None:
    """An empty database and empty topics, mail and export folders: each demo starts anew."""
    admin_conn = await asyncpg.connect(config.postgres_url(SUPERUSER, "postgres"))
    try:
        await admin_conn.execute(
            f"DROP DATABASE IF EXISTS {quote_ident(config.database)} WITH (FORCE)"
        )
    finally:
        await admin_conn.close()
    await prepare_database(config)
    await recreate_topics(config)
    for folder in (config.mail_dir, config.exports_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)
    print("state     database, topics, mail and exports emptied for this demo", flush=True)


async def recreate_topics(config: StackConfig) -> None:
    wanted = set(TopicNames(config.topic_namespace).all_with_partitions())
    kafka = AIOKafkaAdminClient(bootstrap_servers=config.kafka_bootstrap)
    await kafka.start()
    try:
        existing = wanted & set(await kafka.list_topics())
        if existing:
            await kafka.delete_topics(sorted(existing))
        for _ in range(100):
            if not wanted & set(await kafka.list_topics()):
                break
            await asyncio.sleep(0.2)
    finally:
        await kafka.close()
    await ensure_topics(config.kafka_bootstrap, config.topic_namespace)


async def prepare(
    config: StackConfig, centers: Sequence[Center], start: datetime
) -> tuple[dict[str, str], str]:
    notifier = await connect(config.service_dsn("notifier"))
    try:
        await notifier_admin.import_recipients(
            notifier, demo_recipients(c.office_path for c in centers)
        )
    finally:
        await notifier.close()
    conn = await connect(config.service_dsn("intake"))
    try:
        async with conn.transaction():
            await admin.register_centers(conn, centers)
            await offices.import_offices(conn, generated_offices(centers), "demo")
            tokens = {
                c.id: (await admin.issue_token(conn, "center", center_id=c.id)).token
                for c in centers
            }
            operator = (await admin.issue_token(conn, "operator", label="demo operator")).token
            await accounts.import_accounts(conn, demo_accounts(), "demo")
            await admin.set_round_dates(
                conn, DEMO_ROUND, start - DAY, start + DUE_IN, start + DUE_IN + CLOSE_AFTER_DUE
            )
    finally:
        await conn.close()
    print(
        f"registry  {len(centers):,} centers, tokens, office recipients and the accounts of"
        f" {DEMO_OFFICE}'s office and an operator ready",
        flush=True,
    )
    return tokens, operator


async def round_known(stack_client: StackClient, due_at: datetime) -> None:
    """Until the notifier's round clock has the demo round's due date."""
    for _ in range(600):
        metrics = await stack_client.metrics("notifier")
        known = metrics.total(ROUND_DUE, round=DEMO_ROUND)
        if abs(known - due_at.timestamp()) < 0.001:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError("the notifier did not learn the demo round's dates within 60 s")


def plan(
    centers: Sequence[Center], share: float, standard: Standard, rng: random.Random
) -> list[Job]:
    """Who reports when: on time, more of them near the deadline; some late; some amend."""
    reporting = rng.sample([c.id for c in centers], k=round(len(centers) * share))
    late = set(rng.sample(reporting, k=round(len(reporting) * LATE_SHARE)))
    jobs = []
    for center_id in reporting:
        if center_id in late:
            at = DUE_IN + DAY / 4 + (CLOSE_AFTER_DUE - DAY / 2) * rng.random()
        else:
            at = DAY / 10 + (DUE_IN - DAY / 5) * rng.betavariate(2.0, 1.3)
        body = report(standard, DEMO_ROUND, pick_profile(rng), rng)
        jobs.append(Job(at, center_id, body))
    for job in rng.sample(jobs, k=round(len(jobs) * AMEND_SHARE)):
        again = min(job.at + DAY / 2 + 2 * DAY * rng.random(), DUE_IN + CLOSE_AFTER_DUE - DAY / 4)
        jobs.append(Job(again, job.center_id, report(standard, DEMO_ROUND, "good", rng)))
    return sorted(jobs, key=lambda j: j.at)


async def send_all(
    config: StackConfig,
    clock: Clock,
    start: datetime,
    jobs: Sequence[Job],
    tokens: dict[str, str],
    result: DemoResult,
) -> None:
    base = f"http://{config.service_address('intake')}"

    async def post(client: httpx.AsyncClient, job: Job) -> None:
        response = await client.post(
            "/v1/submissions",
            json=job.body,
            headers={
                "Authorization": f"Bearer {tokens[job.center_id]}",
                "Idempotency-Key": str(uuid4()),
            },
        )
        if response.status_code != 201:
            result.refused[response.status_code] = result.refused.get(response.status_code, 0) + 1
            return
        result.posted += 1
        if not result.example_submission:
            result.example_submission = f"{base}/v1/submissions/{response.json()['submission_id']}"

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await at_their_moments(
            clock, start, jobs, lambda job: job.at, partial(post, client), CONCURRENCY
        )


async def show_progress(stack_client: StackClient, clock: Clock, result: DemoResult) -> None:
    """A line every two virtual days until the round's export is done."""
    while True:
        await asyncio.sleep(2 * DAY_SECONDS)
        day = (clock.now() - result.round_started) / DAY
        if day < 0:
            continue
        await summarise(stack_client, result)
        sent = result.messages
        print(
            f"day {day:4.1f}  submitted {result.submitted:>5,} ({result.late:,} late)"
            f"  receipts {sent.get('receipt', 0):>5,}  reminders {sent.get('reminder', 0):>5,}"
            f"  overdue {sent.get('overdue', 0):>4,}  export {result.export.get('state', '-')}",
            flush=True,
        )


async def wait_finished(stack_client: StackClient, result: DemoResult) -> None:
    """Until the export is reconciled and every message is out (or the deadline passes)."""
    deadline = time.monotonic() + FINISH_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        await summarise(stack_client, result)
        done = result.export.get("state") in ("reconciled", "mismatch", "failed")
        if done and not result.messages_pending and result.messages.get("operator_summary"):
            return
        await asyncio.sleep(1)
    print(f"the round did not finish within {FINISH_DEADLINE_SECONDS} s; see the logs", flush=True)


async def summarise(stack_client: StackClient, result: DemoResult) -> None:
    """The round as intake's API and the notifier's metrics show it."""
    submissions = await stack_client.round_submissions(DEMO_ROUND)
    result.submitted = submissions["submitted"]
    result.late = submissions["late"]
    result.amended = submissions["amended"]
    result.verdicts = {
        "not scored yet" if verdict == "pending" else verdict: n
        for verdict, n in submissions["verdicts"].items()
        if n
    }
    ledger = await stack_client.metrics("notifier")
    result.messages = {k: int(n) for k, n in ledger.by(IN_LEDGER, "kind", status="sent").items()}
    result.messages_pending = int(ledger.total(IN_LEDGER, status="pending"))
    exports = await stack_client.round_exports(DEMO_ROUND)
    result.export = next((e for e in exports if e["kind"] == "full"), {})


def _standard() -> Standard:
    standard = load_catalog(default_standards_dir()).get(STANDARD)
    assert standard is not None, f"standard {STANDARD} is missing from standards/"
    return standard
