"""A whole round in seconds (GECC_CLOCK_SPEED): ten centers, six on time, two late, two never.

Every service runs as its own process on the real broker and database; e-mail goes over SMTP
to a real SMTP server that stores each message. The exact set of messages must arrive,
nothing more: also with two notifier processes, one of them killed in the middle and started
again, while the SMTP server refuses mail for a while.
"""

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import uvicorn
from starlette.types import Receive, Scope, Send

from gecc import mailsink
from services.intake import admin
from services.intake.domain.centers import Center
from shared.clock import Clock, build_clock
from shared.events import DeadlineNear, Envelope, RoundClosed
from shared.signing import verify_signature
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.polling import eventually
from tests.support.samples import submission_body
from tests.support.services import ServiceProcess, running_services, wait_for_consumers

ROUND = "FY2570-H1"
# One virtual day passes in four real seconds.
SPEED = 86_400 / 4
DAY = timedelta(days=1)
OFFICES = ("PMO/MOI/DOPA", "PMO/BMA/DISTRICT")
ON_TIME = [f"GECC-{n:04d}" for n in range(1, 7)]
LATE = ["GECC-0007", "GECC-0008"]
NEVER = ["GECC-0009", "GECC-0010"]
CENTERS = ON_TIME + LATE + NEVER
OPERATOR = "operators@opdc.example.go.th"


def center_email(center_id: str) -> str:
    return f"{center_id.lower()}@center.example.go.th"


def office_email(office: str) -> str:
    return f"saraban.{office.split('/')[-1].lower()}@office.example.go.th"


def expected_mail() -> Counter[tuple[str, str]]:
    """(kind, recipient) of every message the round must cause, each exactly once."""
    missing_at_due = LATE + NEVER
    expected: Counter[tuple[str, str]] = Counter()
    for center in ON_TIME + LATE:
        expected[("receipt", center_email(center))] += 1
        expected[("result", center_email(center))] += 1
    for center in missing_at_due:
        expected[("reminder", center_email(center))] += 2  # 2 days and 1 day before due
        expected[("overdue", center_email(center))] += 1
    for office in OFFICES:
        expected[("office_summary", office_email(office))] += 1
    expected[("operator_summary", OPERATOR)] += 1
    return expected


@dataclass
class Round:
    clock: Clock
    due_at: datetime
    closes_at: datetime

    async def until(self, moment: datetime) -> None:
        await asyncio.sleep(max(0.0, (moment - self.clock.now()).total_seconds() / SPEED))


WEBHOOK_SECRET = "s3cret-of-the-dopa-system"


@dataclass
class WebhookReceiver:
    """An office's system: checks each signature; ``/gone`` refuses for good (410)."""

    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        signed = verify_signature(
            WEBHOOK_SECRET,
            headers.get("x-gecc-timestamp", ""),
            body,
            headers.get("x-gecc-signature", ""),
            datetime.now(UTC),
        )
        if scope["path"] == "/gone" or not signed:
            self.refused += 1
            status = 410 if signed else 401
        else:
            self.accepted.append(json.loads(body))
            status = 204
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0, server.started), bool, within=10)
    port = server.servers[0].sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def smtp_sink(directory: Path) -> AsyncIterator[int]:
    server = await mailsink.serve(directory, "127.0.0.1", 0)
    try:
        yield mailsink.bound_port(server)
    finally:
        server.close()
        await server.wait_closed()


@contextmanager
def accelerated_system(
    isolated: Isolated, logs: Path, smtp_port: int, notifiers: int
) -> Iterator[tuple[dict[str, ServiceProcess], Clock]]:
    epoch = datetime.now(UTC)
    env = {
        "GECC_CLOCK_SPEED": str(SPEED),
        "GECC_CLOCK_EPOCH": epoch.isoformat(),
        "GECC_NOTIFIER_SMTP_PORT": str(smtp_port),
        "GECC_NOTIFIER_REMINDER_DAYS": "[2, 1]",
        "GECC_NOTIFIER_OPERATOR_EMAILS": f'["{OPERATOR}"]',
        "GECC_NOTIFIER_CLOCK_POLL_SECONDS": "0.2",
        "GECC_NOTIFIER_DELIVERY_POLL_SECONDS": "0.2",
        "GECC_NOTIFIER_DELIVERY_LEASE_SECONDS": "3",
        "GECC_NOTIFIER_DELIVERY_FIRST_RETRY_SECONDS": "0.5",
        "GECC_NOTIFIER_DELIVERY_MAX_RETRY_SECONDS": "2",
        "GECC_NOTIFIER_DELIVERY_MAX_ATTEMPTS": "20",
    }
    extra = {"notifier": notifiers - 1} if notifiers > 1 else None
    with running_services(isolated, logs, env, extra) as processes:
        yield processes, build_clock(SPEED, epoch=epoch)


async def open_round(
    isolated: Isolated, clock: Clock, webhooks: WebhookReceiver | None = None
) -> tuple[Round, dict[str, str]]:
    """Register the ten centers and the offices' recipients (and, given ``webhooks``, a
    signed webhook for DOPA and a refusing one for the operators); open the round now, due
    in three virtual days, closing two days later."""
    now = clock.now()
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        await admin.register_centers(
            conn,
            [
                Center(
                    center,
                    f"ศูนย์ราชการสะดวก {center}",
                    f"Center {center}",
                    OFFICES[n % 2],
                    "กรุงเทพมหานคร",
                    contact_emails=(center_email(center),),
                )
                for n, center in enumerate(CENTERS)
            ],
        )
        tokens = {c: (await admin.issue_token(conn, "center", center_id=c)).token for c in CENTERS}
        round_ = Round(clock, now + 3 * DAY, now + 5 * DAY)
        await admin.set_round_dates(conn, ROUND, now - DAY, round_.due_at, round_.closes_at)
    finally:
        await conn.close()
    notifier = await asyncpg.connect(isolated.service_url("notifier"))
    try:
        await notifier.executemany(
            "INSERT INTO recipients (owner, channel, address) VALUES ($1, 'email', $2)",
            [(f"office:{office}", office_email(office)) for office in OFFICES],
        )
        if webhooks is not None:
            await notifier.executemany(
                "INSERT INTO recipients (owner, channel, address, secret)"
                " VALUES ($1, 'webhook', $2, $3)",
                [
                    (f"office:{OFFICES[0]}", f"{webhooks.url}/dopa", WEBHOOK_SECRET),
                    ("operators", f"{webhooks.url}/gone", WEBHOOK_SECRET),
                ],
            )
        # The notifier has the round's new dates before its clock can act on them.
        await eventually(
            lambda: notifier.fetchval("SELECT due_at FROM rounds WHERE id = $1", ROUND),
            lambda due: due == round_.due_at,
            within=15,
        )
    finally:
        await notifier.close()
    return round_, tokens


async def submit(intake: httpx.AsyncClient, token: str) -> None:
    response = await intake.post(
        "/v1/submissions",
        json=submission_body(ROUND),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())},
    )
    assert response.status_code == 201, response.text


def kinds_and_recipients(mail: list[EmailMessage]) -> Counter[tuple[str, str]]:
    return Counter((str(m["X-GECC-Kind"]), str(m["To"])) for m in mail)


async def all_mail(directory: Path, expected: Counter[tuple[str, str]]) -> list[EmailMessage]:
    """Wait for the expected number of messages, then a little longer for any extra one."""
    await eventually(
        lambda: asyncio.to_thread(mailsink.read_mailbox, directory),
        lambda mail: len(mail) >= sum(expected.values()),
        within=60,
    )
    await asyncio.sleep(2)
    return mailsink.read_mailbox(directory)


async def clock_events(isolated: Isolated) -> tuple[list[int], list[str]]:
    near = await read_all(isolated.kafka_bootstrap, isolated.topics(Topic.DEADLINE_NEAR), 2)
    closed = await read_all(isolated.kafka_bootstrap, isolated.topics(Topic.ROUND_CLOSED), 1)
    return (
        sorted(Envelope[DeadlineNear].model_validate_json(m.value).data.days_before for m in near),
        [Envelope[RoundClosed].model_validate_json(m.value).data.round_id for m in closed],
    )


async def test_a_round_sends_exactly_the_receipts_reminders_notices_and_summaries(
    isolated: Isolated, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    async with smtp_sink(mail_dir) as port, webhook_receiver() as webhooks:
        with accelerated_system(isolated, tmp_path / "logs", port, notifiers=1) as (procs, clock):
            await wait_for_consumers({name: p.url for name, p in procs.items()})
            round_, tokens = await open_round(isolated, clock, webhooks)
            async with httpx.AsyncClient(base_url=procs["intake"].url) as intake:
                for center in ON_TIME:
                    await submit(intake, tokens[center])
                await round_.until(round_.due_at + DAY / 4)
                for center in LATE:
                    await submit(intake, tokens[center])
            await round_.until(round_.closes_at)
            mail = await all_mail(mail_dir, expected_mail())
            async with httpx.AsyncClient() as client:
                metrics = (await client.get(f"{procs['notifier'].url}/metrics")).text
    assert kinds_and_recipients(mail) == expected_mail()
    summaries = {str(m["To"]): m for m in mail if m["X-GECC-Kind"] == "office_summary"}
    dopa = summaries[office_email("PMO/MOI/DOPA")].get_content()
    # Centers 1, 3, 5, 7, 9 report through DOPA: 9 never did, 7 was late.
    assert "GECC-0009" in dopa and "GECC-0007" in dopa and "GECC-0010" not in dopa
    assert "สรุปรอบ" in str(summaries[office_email("PMO/MOI/DOPA")]["Subject"])
    assert await clock_events(isolated) == ([1, 2], [ROUND])
    # The DOPA system got the same summary, signed; the refusing endpoint's message was
    # given up at once (410 is permanent) and counted.
    assert [(h["kind"], h["data"]["missing"]) for h in webhooks.accepted] == [
        ("office_summary", ["GECC-0009"])
    ]
    assert webhooks.refused == 1
    assert (
        'gecc_notifications_total{channel="webhook",kind="operator_summary",'
        'outcome="dead_lettered"} 1.0' in metrics
    )


async def test_two_notifiers_a_crash_and_an_smtp_outage_change_nothing(
    isolated: Isolated, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    async with smtp_sink(mail_dir) as port:
        with accelerated_system(isolated, tmp_path / "logs", port, notifiers=2) as (procs, clock):
            await wait_for_consumers({name: p.url for name, p in procs.items()})
            round_, tokens = await open_round(isolated, clock)
            async with httpx.AsyncClient(base_url=procs["intake"].url) as intake:
                for center in ON_TIME:
                    await submit(intake, tokens[center])
                # The second notifier dies between the two reminders and comes back.
                await round_.until(round_.due_at - DAY * 1.5)
                procs["notifier-2"].kill()
                await round_.until(round_.due_at - DAY / 2)
                procs["notifier-2"].start()
                # The SMTP server refuses everything around the due date.
                (mail_dir / mailsink.REFUSE_FILE).touch()
                refusing_since = time.monotonic()
                await round_.until(round_.due_at + DAY / 4)
                for center in LATE:
                    await submit(intake, tokens[center])
                await round_.until(round_.due_at + DAY)
                (mail_dir / mailsink.REFUSE_FILE).unlink()
                refused_for = time.monotonic() - refusing_since
            await round_.until(round_.closes_at)
            mail = await all_mail(mail_dir, expected_mail())
            retried = await delivery_attempts(isolated)
    assert kinds_and_recipients(mail) == expected_mail()
    assert await clock_events(isolated) == ([1, 2], [ROUND])
    assert refused_for > 3 and retried > 0, (refused_for, retried)


async def delivery_attempts(isolated: Isolated) -> int:
    """Deliveries that needed more than one attempt (the outage's)."""
    conn = await asyncpg.connect(isolated.service_url("notifier"))
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM deliveries WHERE attempts > 1 AND status = 'sent'"
        )
        return count
    finally:
        await conn.close()
