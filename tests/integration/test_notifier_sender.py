"""The sender against the real SMTP sink and the notifier's schema: a batch goes out
``concurrency`` messages at a time, each group marked sent together; one the server
refuses for good is a dead letter and the others still go."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from prometheus_client import CollectorRegistry

from gecc.mailsink import Mailbox, bound_port, read_mailbox, serve
from services.intake.domain.rounds import default_round
from services.notifier.adapters import repository
from services.notifier.adapters.mail import SmtpSender, SmtpSettings
from services.notifier.adapters.webhook import WebhookSender
from services.notifier.domain import messages
from services.notifier.domain.notices import Outgoing
from services.notifier.domain.schedule import RoundSnapshot
from services.notifier.entrypoints.sender import (
    Sender,
    SenderSettings,
    count_ledger,
    keep_ledger_counted,
)
from services.notifier.metrics import NotifierMetrics
from tests.support.email_addresses import THAI_DOMAIN, THAI_DOMAIN_ASCII, THAI_LOCAL_PART
from tests.support.isolation import Isolated

_h1 = default_round(2570, "H1")
H1 = RoundSnapshot(_h1.id, _h1.opens_at, _h1.due_at, _h1.closes_at)
REFUSED = "nobody@example.go.th"


class RefusingOne(Mailbox):
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such mailbox"
        return await super().handle_RCPT(server, session, envelope, address, options)


@pytest.fixture
async def pool(isolated: Isolated) -> AsyncIterator[asyncpg.Pool]:
    async with isolated.service_pool("notifier", 8) as pool:
        yield pool


def reminder(n: int, address: str | None = None) -> Outgoing:
    center = messages.CenterContact(
        f"GECC-{n:04d}", f"ศูนย์ {n}", f"Center {n}", address or f"gecc-{n:04d}@example.go.th"
    )
    return Outgoing("email", messages.reminder(center, H1, days_before=7))


async def test_a_batch_goes_out_in_groups_marked_sent_and_a_refused_one_is_dead(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    loop = asyncio.get_running_loop()
    handler = RefusingOne(mail_dir)
    server = await loop.create_server(lambda: SMTP(handler, loop=loop), "127.0.0.1", 0)
    async with pool.acquire() as conn:
        queued = [reminder(n) for n in range(1, 41)] + [reminder(41, REFUSED)]
        assert len(await repository.add_deliveries(conn, queued)) == 41
    registry = CollectorRegistry()
    metrics = NotifierMetrics(registry)
    mail = SmtpSender(SmtpSettings(port=bound_port(server)), max_idle=8)
    async with httpx.AsyncClient() as client:
        settings = SenderSettings(batch_size=100, concurrency=8)
        sender = Sender(pool, mail, WebhookSender(client), metrics, settings)
        try:
            await count_ledger(pool, metrics)
            assert in_ledger(registry, "reminder") == {"pending": 41, "sent": 0, "dead": 0}
            assert await sender.send_due() == 41
            assert await sender.send_due() == 0  # nothing left due: each sent exactly once
            await count_ledger(pool, metrics)
        finally:
            await mail.close()
            server.close()
            await server.wait_closed()

    statuses = await pool.fetch("SELECT recipient, status, attempts FROM deliveries")
    assert (
        sorted((r["status"], r["attempts"]) for r in statuses) == [("dead", 1)] + [("sent", 1)] * 40
    )
    assert {r["recipient"] for r in statuses if r["status"] == "dead"} == {REFUSED}
    stored = read_mailbox(mail_dir)
    assert sorted(m["To"] for m in stored) == sorted(o.message.recipient for o in queued[:40])
    counted = {
        outcome: registry.get_sample_value(
            "gecc_notifications_total",
            {"kind": "reminder", "channel": "email", "outcome": outcome},
        )
        for outcome in ("sent", "dead_lettered")
    }
    assert counted == {"sent": 40, "dead_lettered": 1}
    # The ledger's gauge follows it: pending back to 0, every other kind shown as 0.
    assert in_ledger(registry, "reminder") == {"pending": 0, "sent": 40, "dead": 1}
    assert in_ledger(registry, "receipt") == {"pending": 0, "sent": 0, "dead": 0}


async def test_the_ledger_is_counted_once_an_interval_not_after_every_batch(
    pool: asyncpg.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    counted: list[float] = []
    count = repository.delivery_counts

    async def counting(pool: asyncpg.Pool) -> dict[tuple[str, str], int]:
        counted.append(asyncio.get_running_loop().time())
        return await count(pool)

    monkeypatch.setattr(repository, "delivery_counts", counting)
    registry = CollectorRegistry()
    mail = SmtpSender(SmtpSettings(port=1), max_idle=1)
    metrics = NotifierMetrics(registry)
    async with httpx.AsyncClient() as client:
        settings = SenderSettings(poll_seconds=0.02)
        sender = Sender(pool, mail, WebhookSender(client), metrics, settings)
        running = [
            asyncio.create_task(sender.run()),  # about 60 looks at the ledger
            asyncio.create_task(keep_ledger_counted(pool, metrics, every=0.5)),
        ]
        await asyncio.sleep(1.2)
        for task in running:
            task.cancel()
    assert 2 <= len(counted) <= 3  # at once, then each half second (not at each look)
    assert in_ledger(registry, "reminder") == {"pending": 0, "sent": 0, "dead": 0}


def in_ledger(registry: CollectorRegistry, kind: str) -> dict[str, float | None]:
    return {
        status: registry.get_sample_value(
            "gecc_notifications_in_ledger", {"kind": kind, "status": status}
        )
        for status in ("pending", "sent", "dead")
    }


def center(n: int) -> messages.CenterContact:
    return messages.CenterContact(
        f"GECC-{n:04d}", f"ศูนย์ {n}", f"Center {n}", f"gecc-{n:04d}@example.go.th"
    )


async def test_receipts_go_before_results_and_results_before_reminders(
    pool: asyncpg.Pool,
) -> None:
    submission_id = uuid4()
    reminders = [reminder(n) for n in (1, 2)]
    results = [
        Outgoing(
            "email",
            messages.result(
                center(n),
                round_id=H1.id,
                submission_id=submission_id,
                version=1,
                verdict="maintained",
                satisfaction_percent=90.0,
                checklist_percent=100.0,
                reasons=[],
            ),
        )
        for n in (3, 4)
    ]
    receipts = [
        Outgoing(
            "email",
            messages.receipt(
                center(n),
                H1,
                submission_id=submission_id,
                receipt_number=f"{H1.id}/GECC-{n:04d}/v1",
                version=1,
                received_at=datetime.now(UTC),
                late=False,
            ),
        )
        for n in (5, 6)
    ]
    async with pool.acquire() as conn:
        for queued in (reminders, results, receipts):  # oldest first
            await repository.add_deliveries(conn, queued)
    claimed = [
        [d.message.recipient for d in await repository.claim_deliveries(pool, 3, 60.0)]
        for _ in range(2)
    ]
    assert claimed == [
        ["gecc-0005@example.go.th", "gecc-0006@example.go.th", "gecc-0003@example.go.th"],
        ["gecc-0004@example.go.th", "gecc-0001@example.go.th", "gecc-0002@example.go.th"],
    ]


async def send_all(pool: asyncpg.Pool, port: int, queued: list[Outgoing]) -> None:
    async with pool.acquire() as conn:
        assert len(await repository.add_deliveries(conn, queued)) == len(queued)
    mail = SmtpSender(SmtpSettings(port=port))
    async with httpx.AsyncClient() as client:
        metrics = NotifierMetrics(CollectorRegistry())
        sender = Sender(pool, mail, WebhookSender(client), metrics, SenderSettings())
        try:
            assert await sender.send_due() == len(queued)
        finally:
            await mail.close()


async def outcomes(pool: asyncpg.Pool) -> dict[str, tuple[str, int, str | None]]:
    rows = await pool.fetch("SELECT recipient, status, attempts, last_error FROM deliveries")
    return {r["recipient"]: (r["status"], r["attempts"], r["last_error"]) for r in rows}


async def test_each_message_goes_to_the_address_in_its_to_header_thai_ones_included(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    server = await serve(tmp_path / "mail", port=0)  # the local stack's sink: SMTPUTF8
    # Rows as a ledger from before the imports checked addresses may hold them.
    injected = ["x>@example.go.th", "gecc-0002@example.go.th\r\nBcc: evil@example.com"]
    try:
        await send_all(
            pool,
            bound_port(server),
            [
                reminder(1),
                reminder(3, THAI_LOCAL_PART),
                reminder(4, THAI_DOMAIN),
                *(reminder(5 + n, address) for n, address in enumerate(injected)),
            ],
        )
    finally:
        server.close()
        await server.wait_closed()

    stored = read_mailbox(tmp_path / "mail")
    assert [m["X-Envelope-To"] for m in stored] == [m["To"] for m in stored]
    assert sorted(m["To"] for m in stored) == sorted(
        ["gecc-0001@example.go.th", THAI_LOCAL_PART, THAI_DOMAIN_ASCII]
    )
    assert all(m["Bcc"] is None for m in stored)
    found = await outcomes(pool)
    assert {r for r, (status, _, _) in found.items() if status == "sent"} == {
        "gecc-0001@example.go.th",
        THAI_LOCAL_PART,
        THAI_DOMAIN,
    }
    for address in injected:
        status, attempts, error = found[address]
        assert (status, attempts) == ("dead", 1)
        assert error is not None
        assert error.startswith(f"email: not sent: {address!r} is not an e-mail address: ")


async def test_a_thai_local_part_is_dead_with_the_reason_where_the_server_lacks_smtputf8(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    handler = Mailbox(tmp_path)
    server = await loop.create_server(lambda: SMTP(handler, loop=loop), "127.0.0.1", 0)
    port = bound_port(server)
    try:
        await send_all(pool, port, [reminder(1, THAI_LOCAL_PART), reminder(2, THAI_DOMAIN)])
    finally:
        server.close()
        await server.wait_closed()

    assert await outcomes(pool) == {
        THAI_LOCAL_PART: (
            "dead",
            1,
            f"email: {THAI_LOCAL_PART} has a non-ASCII local part, which needs SMTPUTF8 "
            f"(RFC 6531), and the SMTP server 127.0.0.1:{port} does not offer it",
        ),
        THAI_DOMAIN: ("sent", 1, None),
    }
    assert [m["To"] for m in read_mailbox(tmp_path)] == [THAI_DOMAIN_ASCII]
