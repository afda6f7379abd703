"""A person waits for their sign-in link: from intake's commit of the SignInRequested event
(its outbox, as the sign-in route writes it) through Kafka and the notifier to the SMTP
sink, each link arrives within 2 s at idle; its text leads to the portal, and the code is in
no service's log.

intake and the notifier run as processes on the real broker and database; the SMTP sink is
the local stack's. Prints what it measured: commit to Kafka (the record's timestamp, taken
by intake's relay), Kafka to the sink (the time the sink stored the file), and the whole."""

import asyncio
import email.policy
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from pathlib import Path
from statistics import median
from uuid import UUID, uuid4

import asyncpg
import pytest

from gecc import mailsink
from shared.events import Envelope, SignInRequested, new_event
from shared.messaging.outbox import enqueue
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.services import ServiceProcess, link, wait_for_consumers

PORTAL = "https://portal.gecc.example.go.th"
WITHIN_SECONDS = 2.0
# Pauses between requests, so that they meet the sender's 0.5 s poll at different moments.
IDLE_SECONDS = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9)
MEASURED = len(IDLE_SECONDS)
PARSER = BytesParser(policy=email.policy.default)


@dataclass
class Sent:
    request_id: UUID
    code: str
    committed_ns: int


@pytest.fixture
def system(isolated: Isolated, tmp_path: Path) -> Iterator[dict[str, ServiceProcess]]:
    """intake (its outbox relay publishes) and the notifier (sending to ``smtp_port``)."""
    processes = {
        name: ServiceProcess(name, isolated, tmp_path / "logs" / f"{name}.log", {})
        for name in ("intake", "notifier")
    }
    link(processes)
    processes["notifier"].env["GECC_NOTIFIER_PORTAL_URL"] = PORTAL
    yield processes
    for process in processes.values():
        process.stop()


async def request_sign_in(isolated: Isolated, email: str) -> Sent:
    """What intake's sign-in route stores: the event in its outbox, in one transaction."""
    request_id, code = uuid4(), f"code-{uuid4().hex}"
    data = SignInRequested(
        request_id=request_id,
        email=email,
        code=code,
        expires_at=datetime.now(UTC) + timedelta(minutes=15),
    )
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        async with conn.transaction():
            await enqueue(conn, Topic.SIGN_IN_REQUESTED, email, new_event(data, "intake"))
        committed = time.time_ns()
    finally:
        await conn.close()
    return Sent(request_id, code, committed)


async def stored_at(mail_dir: Path, code: str, within: float = 10.0) -> int:
    """When the sink stored the message carrying ``code`` (ns, from its file name)."""
    return await asyncio.to_thread(_stored_at, mail_dir, code, within)


def _stored_at(mail_dir: Path, code: str, within: float) -> int:
    deadline = time.monotonic() + within
    while True:
        for path in mail_dir.glob("[!.]*.eml"):
            if code in PARSER.parsebytes(path.read_bytes()).get_content():
                return int(path.name.split("-")[0])
        if time.monotonic() > deadline:
            raise AssertionError(f"no sign-in mail within {within} s")
        time.sleep(0.005)


async def test_each_sign_in_link_is_in_the_mailbox_within_two_seconds_of_intakes_commit(
    isolated: Isolated, system: dict[str, ServiceProcess], tmp_path: Path
) -> None:
    mail_dir = tmp_path / "mail"
    server = await mailsink.serve(mail_dir, "127.0.0.1", 0)
    system["notifier"].env["GECC_NOTIFIER_SMTP_PORT"] = str(mailsink.bound_port(server))
    try:
        for process in system.values():
            process.start()
        for process in system.values():
            await asyncio.to_thread(process.wait_healthy)
        await wait_for_consumers({name: p.url for name, p in system.items()})
        warm_up = await request_sign_in(isolated, "warm-up@example.go.th")
        await stored_at(mail_dir, warm_up.code, within=60)
        sent = []
        for n, idle in enumerate(IDLE_SECONDS):
            await asyncio.sleep(idle)
            one = await request_sign_in(isolated, f"staff-{n}@example.go.th")
            await stored_at(mail_dir, one.code)
            sent.append(one)
    finally:
        server.close()
        await server.wait_closed()
        for process in system.values():
            process.stop()

    records = await read_all(
        isolated.kafka_bootstrap, isolated.topics(Topic.SIGN_IN_REQUESTED), MEASURED + 1
    )
    in_kafka_ms = {
        Envelope[SignInRequested]
        .model_validate_json(record.value)
        .data.request_id: record.timestamp
        for record in records
    }
    stored = {s.request_id: await stored_at(mail_dir, s.code, within=0) for s in sent}
    whole = [(stored[s.request_id] - s.committed_ns) / 1e9 for s in sent]
    to_kafka = [in_kafka_ms[s.request_id] / 1e3 - s.committed_ns / 1e9 for s in sent]
    from_kafka = [stored[s.request_id] / 1e9 - in_kafka_ms[s.request_id] / 1e3 for s in sent]
    print(
        "sign-in mail at idle, seconds (median / max): "
        f"commit→Kafka {median(to_kafka):.3f} / {max(to_kafka):.3f}, "
        f"Kafka→sink {median(from_kafka):.3f} / {max(from_kafka):.3f}, "
        f"commit→sink {median(whole):.3f} / {max(whole):.3f}"
    )
    assert max(whole) < WITHIN_SECONDS, whole

    message = next(m for m in mailsink.read_mailbox(mail_dir) if sent[0].code in m.get_content())
    assert message["To"] == "staff-0@example.go.th"
    assert message["X-GECC-Kind"] == "sign_in"
    assert f"{PORTAL}/sign-in/{sent[0].code}" in message.get_content()
    for process in system.values():
        log = process.log.read_text(encoding="utf-8")
        assert not [s.code for s in [warm_up, *sent] if s.code in log], process.name
