"""The sign-in link through the notifier's ledger, on the real database and a real SMTP sink:
queued once per request however often its event comes, sent before receipts queued earlier,
and, once sent or given up on, nowhere left in the notifier's tables."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from prometheus_client import CollectorRegistry

from gecc.mailsink import bound_port, read_mailbox, serve
from services.intake.domain.rounds import default_round
from services.notifier import handlers
from services.notifier.adapters import repository
from services.notifier.adapters.mail import SmtpSender, SmtpSettings
from services.notifier.adapters.webhook import WebhookSender
from services.notifier.domain import messages
from services.notifier.domain.notices import Outgoing
from services.notifier.domain.schedule import RoundSnapshot
from services.notifier.entrypoints.sender import EXPIRED, Sender, SenderSettings
from services.notifier.metrics import NotifierMetrics
from shared.events import Envelope, SignInRequested, new_event
from tests.support.isolation import Isolated

PORTAL = "https://gecc.example.go.th"
_h1 = default_round(2570, "H1")
H1 = RoundSnapshot(_h1.id, _h1.opens_at, _h1.due_at, _h1.closes_at)


@pytest.fixture
async def pool(isolated: Isolated) -> AsyncIterator[asyncpg.Pool]:
    async with isolated.service_pool("notifier") as pool:
        yield pool


def requested(
    request_id: UUID, code: str, email: str = "staff@example.go.th", minutes: float = 15
) -> Envelope[SignInRequested]:
    """A new event each time (its own event_id), as intake would publish it again."""
    expires_at = datetime.now(UTC) + timedelta(minutes=minutes)
    data = SignInRequested(request_id=request_id, email=email, code=code, expires_at=expires_at)
    return new_event(data, "intake")


def receipt(n: int) -> Outgoing:
    center = messages.CenterContact(f"GECC-{n:04d}", "ศูนย์", "Center", f"gecc-{n:04d}@x.go.th")
    message = messages.receipt(
        center,
        H1,
        submission_id=uuid4(),
        receipt_number=f"R{n}",
        version=1,
        received_at=datetime.now(UTC),
        late=False,
    )
    return Outgoing("email", message)


async def readable_anywhere(pool: asyncpg.Pool, text: str) -> list[str]:
    """The notifier's tables that hold ``text`` in any row."""
    tables = await pool.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
    )
    found = []
    for (table,) in tables:
        if await pool.fetchval(
            f'SELECT count(*) FROM "{table}" t WHERE strpos(t::text, $1) > 0', text
        ):
            found.append(table)
    return found


async def send_due(pool: asyncpg.Pool, port: int, metrics: NotifierMetrics, batch: int) -> int:
    mail = SmtpSender(SmtpSettings(port=port))
    async with httpx.AsyncClient() as client:
        settings = SenderSettings(batch_size=batch)
        sender = Sender(pool, mail, WebhookSender(client), metrics, settings)
        try:
            return await sender.send_due()
        finally:
            await mail.close()


async def test_a_link_is_queued_once_per_request_sent_first_and_then_forgotten(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    metrics = NotifierMetrics(registry)
    code, request_id = "k5Fq-one-time-code_9xZ", uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await handlers.queue(conn, [receipt(1), receipt(2)], metrics)  # waiting already
    for _ in range(2):  # the same request, published twice
        async with pool.acquire() as conn, conn.transaction():
            await handlers.send_sign_in_link(conn, requested(request_id, code), PORTAL, metrics)
    queued = registry.get_sample_value(
        "gecc_notifications_total", {"kind": "sign_in", "channel": "email", "outcome": "queued"}
    )
    assert queued == 1
    assert await readable_anywhere(pool, code) == ["deliveries"]

    server = await serve(tmp_path / "mail", port=0)
    try:
        assert await send_due(pool, bound_port(server), metrics, batch=1) == 1
        (first,) = read_mailbox(tmp_path / "mail")
        assert first["X-GECC-Kind"] == "sign_in"
        assert first["To"] == "staff@example.go.th"
        assert f"{PORTAL}/sign-in/{code}" in first.get_content()
        assert await send_due(pool, bound_port(server), metrics, batch=10) == 2
    finally:
        server.close()
        await server.wait_closed()

    assert [m["X-GECC-Kind"] for m in read_mailbox(tmp_path / "mail")] == ["sign_in"] + [
        "receipt"
    ] * 2
    assert await readable_anywhere(pool, code) == []
    row = await pool.fetchrow("SELECT status, body, data FROM deliveries WHERE kind = 'sign_in'")
    assert row is not None
    assert (row["status"], row["body"]) == ("sent", repository.FORGOTTEN_BODY)
    assert row["data"]["request_id"] == str(request_id)
    # Other messages keep their text.
    kept = await pool.fetchval("SELECT count(*) FROM deliveries WHERE body LIKE '%R1%'")
    assert kept == 1


async def test_a_link_that_expired_or_was_refused_is_given_up_and_forgotten(
    pool: asyncpg.Pool, tmp_path: Path
) -> None:
    registry = CollectorRegistry()
    metrics = NotifierMetrics(registry)
    late, refused = "expired-code-1234", "refused-code-5678"
    async with pool.acquire() as conn, conn.transaction():
        # The notifier was down for longer than the link lives.
        await handlers.send_sign_in_link(
            conn, requested(uuid4(), late, minutes=-1), PORTAL, metrics
        )
        # An address no SMTP server can take (a permanent failure).
        await handlers.send_sign_in_link(
            conn, requested(uuid4(), refused, email="nobody@"), PORTAL, metrics
        )
    server = await serve(tmp_path / "mail", port=0)
    try:
        assert await send_due(pool, bound_port(server), metrics, batch=10) == 2
    finally:
        server.close()
        await server.wait_closed()

    assert read_mailbox(tmp_path / "mail") == []
    rows = await pool.fetch("SELECT status, body, last_error FROM deliveries ORDER BY id")
    assert [(r["status"], r["body"]) for r in rows] == [("dead", repository.FORGOTTEN_BODY)] * 2
    assert rows[0]["last_error"] == EXPIRED
    assert await readable_anywhere(pool, late) == []
    assert await readable_anywhere(pool, refused) == []
    dead = registry.get_sample_value(
        "gecc_notifications_total",
        {"kind": "sign_in", "channel": "email", "outcome": "dead_lettered"},
    )
    assert dead == 2
