"""The SMTP adapter against the real mail sink, started in this process on a free port."""

import asyncio
import base64
import dataclasses
import email.policy
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.parser import BytesParser
from pathlib import Path
from uuid import UUID

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from gecc.mailsink import REFUSE_FILE, Mailbox, bound_port, message_id, read_mailbox, serve
from services.intake.domain.rounds import default_round
from services.notifier.adapters.delivery import PermanentDeliveryError, TemporaryDeliveryError
from services.notifier.adapters.mail import (
    SmtpSender,
    SmtpSettings,
    classify,
    header_text,
    to_email,
)
from services.notifier.domain import messages
from services.notifier.domain.schedule import RoundSnapshot
from tests.support.email_addresses import (
    THAI_DOMAIN,
    THAI_DOMAIN_ASCII,
    THAI_LOCAL_PART,
    UNDELIVERABLE,
)

_h1 = default_round(2570, "H1")
H1 = RoundSnapshot(_h1.id, _h1.opens_at, _h1.due_at, _h1.closes_at)
CENTER = messages.CenterContact(
    "PMO/BMA/HC01", "ศูนย์บริการสาธารณสุข 1", "Public Health Center 1", "hc01@example.go.th"
)
REMINDER = messages.reminder(CENTER, H1, days_before=7)


@dataclass
class Sink:
    directory: Path
    sender: SmtpSender


@pytest.fixture
async def sink(tmp_path: Path) -> AsyncIterator[Sink]:
    server = await serve(tmp_path / "mail", port=0)
    settings = SmtpSettings(port=bound_port(server), from_address="GECC <no-reply@gecc.go.th>")
    try:
        yield Sink(tmp_path / "mail", SmtpSender(settings))
    finally:
        server.close()
        await server.wait_closed()


async def test_a_message_arrives_whole_with_thai_subject_and_body(sink: Sink) -> None:
    await sink.sender.send(REMINDER)

    (mail,) = read_mailbox(sink.directory)
    assert mail["Subject"] == REMINDER.subject
    assert mail["To"] == "hc01@example.go.th"
    assert mail["From"] == "GECC <no-reply@gecc.go.th>"
    assert mail["Message-ID"] == f"<{REMINDER.delivery_id}@gecc.go.th>"
    assert mail["X-GECC-Kind"] == "reminder"
    assert mail["X-GECC-Round"] == "FY2570-H1"
    assert mail["X-Envelope-To"] == "hc01@example.go.th"
    assert mail.get_content_type() == "text/plain"
    assert mail.get_content_charset() == "utf-8"
    assert mail.get_content() == REMINDER.body
    assert "30 เมษายน 2570" in mail.get_content()


async def test_a_sign_in_link_names_no_round(sink: Sink) -> None:
    link = messages.sign_in_link(
        request_id=UUID("5d1e0c55-8a0f-4f0e-9a57-2a43c2b4f0a1"),
        email="staff@example.go.th",
        code="one-time-code",
        expires_at=datetime(2027, 4, 30, 17, 30, tzinfo=UTC),
        portal_url="http://127.0.0.1:8084",
    )
    await sink.sender.send(link)

    (mail,) = read_mailbox(sink.directory)
    assert mail["X-GECC-Kind"] == "sign_in"
    assert "X-GECC-Round" not in mail
    assert mail["Message-ID"] == f"<{link.delivery_id}@gecc.go.th>"
    assert "http://127.0.0.1:8084/sign-in/one-time-code" in mail.get_content()


async def test_each_message_is_its_own_file_in_arrival_order(sink: Sink) -> None:
    overdue = messages.overdue(CENTER, H1)
    await sink.sender.send(REMINDER)
    await sink.sender.send(overdue)
    await sink.sender.send(REMINDER)

    names = sorted(path.name for path in sink.directory.iterdir())
    assert len(names) == 3
    assert all(re.fullmatch(r"\d{20}-\d{6}-[0-9a-f]{16}\.eml", name) for name in names)
    assert [m["X-GECC-Kind"] for m in read_mailbox(sink.directory)] == [
        "reminder",
        "overdue",
        "reminder",
    ]
    # A resend keeps its Message-ID, so it is recognisable as the same message.
    first, _, resent = read_mailbox(sink.directory)
    assert first["Message-ID"] == resent["Message-ID"]


async def test_an_outage_is_a_temporary_failure_and_delivery_resumes(sink: Sink) -> None:
    refuse = sink.directory / REFUSE_FILE
    refuse.touch()
    with pytest.raises(TemporaryDeliveryError) as failure:
        await sink.sender.send(REMINDER)
    assert failure.value.code == 451
    assert read_mailbox(sink.directory) == []

    refuse.unlink()
    await sink.sender.send(REMINDER)
    assert [m["Message-ID"] for m in read_mailbox(sink.directory)] == [
        f"<{REMINDER.delivery_id}@gecc.go.th>"
    ]


async def test_no_server_listening_is_a_temporary_failure(tmp_path: Path) -> None:
    server = await serve(tmp_path, port=0)
    port = bound_port(server)
    server.close()
    await server.wait_closed()
    with pytest.raises(TemporaryDeliveryError):
        await SmtpSender(SmtpSettings(port=port, timeout=5)).send(REMINDER)


class RejectingMailbox:
    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        return "550 5.1.1 No such mailbox"


async def test_a_5xx_refusal_is_permanent() -> None:
    loop = asyncio.get_running_loop()
    handler = RejectingMailbox()
    server = await loop.create_server(lambda: SMTP(handler, loop=loop), "127.0.0.1", 0)
    try:
        with pytest.raises(PermanentDeliveryError) as failure:
            await SmtpSender(SmtpSettings(port=bound_port(server))).send(REMINDER)
        assert failure.value.code == 550
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    ("error", "temporary"),
    [
        (aiosmtplib.SMTPResponseException(421, "service not available"), True),
        (aiosmtplib.SMTPDataError(452, "insufficient storage"), True),
        (aiosmtplib.SMTPDataError(554, "transaction failed"), False),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), False),
        (aiosmtplib.SMTPServerDisconnected("gone"), True),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), True),
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),
        (aiosmtplib.SMTPNotSupported("STARTTLS extension not supported"), False),
        (ValueError("address contains characters not permitted"), False),
    ],
)
def test_failures_are_classified(error: Exception, temporary: bool) -> None:
    assert classify(error).temporary is temporary


def test_smtp_settings_are_consistent() -> None:
    with pytest.raises(ValueError, match="STARTTLS"):
        SmtpSettings(starttls=True, implicit_tls=True)
    with pytest.raises(ValueError, match="together"):
        SmtpSettings(username="gecc")


def test_the_command_line_sink_announces_itself_and_stores_mail(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "gecc.mailsink", "--port", "0", "--dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = process.stdout.readline()
        found = re.fullmatch(r"mailsink ready on 127\.0\.0\.1:(\d+), storing in .+\n", ready)
        assert found, ready
        asyncio.run(SmtpSender(SmtpSettings(port=int(found[1]))).send(REMINDER))
        assert [m["Subject"] for m in read_mailbox(tmp_path)] == [REMINDER.subject]
    finally:
        process.terminate()
        process.wait(timeout=10)


class CountingMailbox:
    """Accepts every message and counts the sessions (EHLOs) it was sent in."""

    def __init__(self) -> None:
        self.sessions = 0
        self.messages = 0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.messages += 1
        return "250 OK"


async def test_messages_share_a_kept_connection_and_a_closed_one_is_replaced() -> None:
    loop = asyncio.get_running_loop()
    mailbox = CountingMailbox()
    protocols: list[SMTP] = []

    def protocol() -> SMTP:
        protocols.append(SMTP(mailbox, loop=loop))
        return protocols[-1]

    server = await loop.create_server(protocol, "127.0.0.1", 0)
    sender = SmtpSender(SmtpSettings(port=bound_port(server)))
    try:
        for _ in range(3):
            await sender.send(REMINDER)
        assert (mailbox.sessions, mailbox.messages) == (1, 3)
        # The server drops the idle connection: the next message goes over a new one.
        assert protocols[0].transport is not None
        protocols[0].transport.close()
        await asyncio.sleep(0.1)
        await sender.send(REMINDER)
        assert (mailbox.sessions, mailbox.messages) == (2, 4)
    finally:
        await sender.close()
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(
    "subject",
    [
        "Report received",
        REMINDER.subject,
        "ใบรับรายงาน " * 20 + "FY2570-H1/GECC-0010/v1 / Report received",
        "a" * 44 + "ก" * 30,  # a character across the first word's end
        "ศูนย์ 😀 emoji\nและบรรทัดใหม่",
    ],
)
def test_headers_are_folded_encoded_words_that_decode_to_the_subject(subject: str) -> None:
    written = header_text(subject)
    lines = written.split("\r\n")
    assert all(len(line) <= 76 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    assert str(make_header(decode_header(written))) == subject
    if not subject.isascii():  # every word whole characters on its own (RFC 2047 5.3)
        for line in lines:
            word = re.fullmatch(r" ?=\?utf-8\?b\?([A-Za-z0-9+/=]+)\?=", line)
            assert word is not None, line
            base64.b64decode(word.group(1)).decode("utf-8")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"Subject: x\r\nMessage-Id:  <a@gecc.go.th> \r\n\r\nbody", b"<a@gecc.go.th>"),
        (b"MESSAGE-ID: <b@x>\n\nbody", b"<b@x>"),
        (b"Subject: x\r\n\r\nMessage-ID: <in-the-body@x>\r\n", b""),
    ],
)
def test_the_sink_names_a_file_by_the_message_id_of_the_header_section(
    raw: bytes, expected: bytes
) -> None:
    assert message_id(raw) == expected


def to(address: str) -> messages.Message:
    return dataclasses.replace(REMINDER, recipient=address)


@pytest.mark.parametrize(
    ("address", "recipient", "smtputf8"),
    [
        ("hc01@example.go.th", "hc01@example.go.th", False),
        (THAI_DOMAIN, THAI_DOMAIN_ASCII, False),  # punycode: no SMTPUTF8 needed
        (THAI_LOCAL_PART, THAI_LOCAL_PART, True),
    ],
)
def test_the_envelope_recipient_is_the_address_written_in_to(
    address: str, recipient: str, smtputf8: bool
) -> None:
    built = to_email(to(address), "GECC <no-reply@gecc.go.th>", datetime.now(UTC))

    assert (built.recipient, built.smtputf8) == (recipient, smtputf8)
    head = built.data.split(b"\r\n\r\n", 1)[0]
    # RFC 6532: an internationalized address is UTF-8 in the header, never an encoded word.
    assert f"\r\nTo: {recipient}\r\n".encode() in head
    assert head.isascii() is not smtputf8
    mail = BytesParser(policy=email.policy.default).parsebytes(built.data)
    assert mail.get_all("To") == [recipient]
    assert mail.get_content() == REMINDER.body


@pytest.mark.parametrize("address", [address for address, _ in UNDELIVERABLE])
def test_no_message_is_built_for_an_address_that_is_not_one_deliverable_mailbox(
    address: str,
) -> None:
    with pytest.raises(PermanentDeliveryError, match=r"not sent: .* is not an e-mail address: "):
        to_email(to(address), "GECC <no-reply@gecc.go.th>", datetime.now(UTC))


@pytest.mark.parametrize(
    "address", ["x>@example.go.th", "a@x.go.th\r\nBcc: evil@x.com", "a@x.go.th, evil@x.com"]
)
async def test_an_injection_attempt_never_reaches_the_smtp_server(sink: Sink, address: str) -> None:
    with pytest.raises(PermanentDeliveryError):
        await sink.sender.send(to(address))
    assert read_mailbox(sink.directory) == []


async def test_thai_addresses_arrive_with_the_envelope_recipient_in_to(sink: Sink) -> None:
    for address in ("hc01@example.go.th", THAI_DOMAIN, THAI_LOCAL_PART):
        await sink.sender.send(to(address))

    stored = [(m["X-Envelope-To"], m["To"]) for m in read_mailbox(sink.directory)]
    assert stored == [
        ("hc01@example.go.th", "hc01@example.go.th"),
        (THAI_DOMAIN_ASCII, THAI_DOMAIN_ASCII),
        (THAI_LOCAL_PART, THAI_LOCAL_PART),
    ]


async def test_a_server_without_smtputf8_is_a_permanent_failure_for_a_thai_local_part(
    tmp_path: Path,
) -> None:
    loop = asyncio.get_running_loop()
    handler = Mailbox(tmp_path)
    server = await loop.create_server(lambda: SMTP(handler, loop=loop), "127.0.0.1", 0)
    port = bound_port(server)
    sender = SmtpSender(SmtpSettings(port=port))
    try:
        with pytest.raises(PermanentDeliveryError) as failure:
            await sender.send(to(THAI_LOCAL_PART))
        await sender.send(to(THAI_DOMAIN))  # punycode needs no SMTPUTF8
    finally:
        await sender.close()
        server.close()
        await server.wait_closed()

    assert str(failure.value) == (
        f"email: {THAI_LOCAL_PART} has a non-ASCII local part, which needs SMTPUTF8 "
        f"(RFC 6531), and the SMTP server 127.0.0.1:{port} does not offer it"
    )
    assert [m["To"] for m in read_mailbox(tmp_path)] == [THAI_DOMAIN_ASCII]
