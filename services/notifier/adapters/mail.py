"""E-mail over SMTP (aiosmtplib): one message per transaction, one recipient each.

The recipient is checked again here (it may come from a row queued before the files were
checked, or from an old registry event) and goes, in one form, both to RCPT TO and to the
To header: nothing in an address can add a recipient or a header. An address with a
non-ASCII local part needs a server that offers SMTPUTF8 (RFC 6531) and is written in To
as UTF-8 (RFC 6532); a Thai domain with an ASCII local part is sent in punycode.
"""

import asyncio
import base64
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.base64mime import header_encode
from email.utils import format_datetime, formataddr, parseaddr
from functools import lru_cache

import aiosmtplib

from services.notifier.adapters.delivery import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from services.notifier.domain.messages import Message
from shared.email_addresses import NotAnEmailAddress, email_address

CHANNEL = "email"
QUIT_SECONDS = 1.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 8025
    starttls: bool = False
    """Upgrade the connection with STARTTLS (and insist on it); off: never upgrade."""
    implicit_tls: bool = False
    """TLS from the first byte (port 465); excludes ``starttls``."""
    username: str | None = None
    password: str | None = None
    from_address: str = "GECC <no-reply@gecc.localhost>"
    timeout: float = 30.0
    validate_certs: bool = True

    def __post_init__(self) -> None:
        if self.starttls and self.implicit_tls:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        if (self.username is None) != (self.password is None):
            raise ValueError("SMTP username and password go together")


# MAIL FROM parameters for an internationalized message: RFC 6531 has a server that offers
# SMTPUTF8 offer 8BITMIME too, and the header section then holds 8-bit text.
SMTPUTF8_OPTIONS = ("SMTPUTF8", "BODY=8BITMIME")


@dataclass(frozen=True)
class Email:
    """A message as it goes over SMTP. ``recipient`` is both the envelope recipient (RCPT TO)
    and the address in the To header."""

    recipient: str
    smtputf8: bool
    """The recipient's local part is not ASCII: the server must offer SMTPUTF8."""
    data: bytes


def to_email(message: Message, from_address: str, sent_at: datetime) -> Email:
    """The message as sent: one text/plain part in UTF-8, base64 so that Thai stays intact
    through relays that lack 8BITMIME, and RFC 2047 encoded words for Thai headers (the To
    address excepted: RFC 6532 UTF-8 when it needs SMTPUTF8). Raises
    ``PermanentDeliveryError`` for a recipient that is not one deliverable address.

    Written out rather than built with ``email.message.EmailMessage``: its header registry
    parsed every header again and was a fifth of the notifier's CPU in a round's burst
    (docs/benchmarks.md).
    """
    recipient, smtputf8 = smtp_recipient(message.recipient)
    delivery_id = message.delivery_id
    headers = [
        ("From", _from_header(from_address)),
        ("To", recipient),
        ("Subject", header_text(message.subject)),
        ("Date", format_datetime(sent_at.astimezone(UTC))),
        ("Message-ID", f"<{delivery_id}@{_domain(from_address)}>"),
        ("Auto-Submitted", "auto-generated"),
        ("X-GECC-Kind", message.kind.value),
        *([("X-GECC-Round", message.round_id)] if message.round_id is not None else []),
        ("X-GECC-Delivery", delivery_id),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", "base64"),
    ]
    head = "".join(f"{field}: {value}\r\n" for field, value in headers)
    body = base64.encodebytes(message.body.encode()).replace(b"\n", b"\r\n")
    data = head.encode("utf-8" if smtputf8 else "ascii") + b"\r\n" + body
    return Email(recipient, smtputf8, data)


@lru_cache(maxsize=4096)
def smtp_recipient(address: str) -> tuple[str, bool]:
    """``address`` as it goes over SMTP, and whether that needs SMTPUTF8: the ASCII form
    (domain in punycode) where the local part is ASCII, else the normalized UTF-8 form.
    Raises ``PermanentDeliveryError`` for anything but one deliverable address."""
    try:
        checked = email_address(address)
    except NotAnEmailAddress as error:
        raise PermanentDeliveryError(CHANNEL, f"not sent: {error}") from None
    if checked.ascii is not None:
        return checked.ascii, False
    return checked.normalized, True


# UTF-8 bytes per RFC 2047 encoded word: 45 bytes are 60 base64 characters, 72 with
# "=?utf-8?b?" and "?=", within the 75 the RFC allows.
ENCODED_WORD_BYTES = 45


def header_text(text: str) -> str:
    """``text`` as it is when plain ASCII, else as folded RFC 2047 'B' encoded words, each cut
    between characters (what ``email.header.Header`` writes, at a fifth of its cost: it was
    about 120 us a message)."""
    if text.isascii() and "\n" not in text and "\r" not in text:
        return text
    encoded = text.encode()
    words = []
    start = 0
    while start < len(encoded):
        end = min(start + ENCODED_WORD_BYTES, len(encoded))
        while end < len(encoded) and encoded[end] & 0xC0 == 0x80:  # inside a character
            end -= 1
        words.append(header_encode(encoded[start:end], "utf-8"))
        start = end
    return "\r\n ".join(words)


@lru_cache(maxsize=8)
def _from_header(from_address: str) -> str:
    return formataddr(parseaddr(from_address), charset="utf-8")


@lru_cache(maxsize=8)
def _envelope_sender(from_address: str) -> str:
    return parseaddr(from_address)[1]


class SmtpSender:
    """Sends over connections it keeps open between messages (up to ``max_idle`` of them,
    each for ``idle_seconds``): a new connection per message (greeting, EHLO, QUIT) cost
    the notifier and the SMTP server more than the message itself in a round's burst."""

    def __init__(
        self, settings: SmtpSettings, max_idle: int = 8, idle_seconds: float = 10.0
    ) -> None:
        self.settings = settings
        self._local_hostname: str | None = None
        self._max_idle = max_idle
        self._idle_seconds = idle_seconds
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []

    async def local_hostname(self) -> str:
        """Our name in EHLO, looked up once: aiosmtplib would look it up (a DNS query on a
        worker thread) for every connection."""
        if self._local_hostname is None:
            self._local_hostname = await asyncio.to_thread(socket.getfqdn)
        return self._local_hostname

    async def send(self, message: Message, sent_at: datetime | None = None) -> None:
        """Deliver or raise ``TemporaryDeliveryError`` / ``PermanentDeliveryError``."""
        settings = self.settings
        email = to_email(message, settings.from_address, sent_at or datetime.now(UTC))
        sender = _envelope_sender(settings.from_address)
        kept = self._take_idle()
        if kept is not None:
            try:
                await self._send_on(kept, sender, email)
                return
            except aiosmtplib.SMTPServerDisconnected:
                pass  # it closed the idle connection meanwhile: send on a new one
        try:
            smtp = await self._connect()
        except Exception as error:
            raise classify(error) from error
        await self._send_on(smtp, sender, email)

    async def close(self) -> None:
        """Say goodbye on the kept connections, all at once and briefly: a server that does
        not answer QUIT must not hold the service's shutdown for the whole SMTP timeout."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(smtp) for smtp, _ in idle))

    @staticmethod
    async def _quit(smtp: aiosmtplib.SMTP) -> None:
        try:
            await asyncio.wait_for(smtp.quit(), QUIT_SECONDS)
        except Exception:
            smtp.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=settings.host,
            port=settings.port,
            local_hostname=await self.local_hostname(),
            username=settings.username,
            password=settings.password,
            start_tls=settings.starttls,
            use_tls=settings.implicit_tls,
            validate_certs=settings.validate_certs,
            timeout=settings.timeout,
        )
        await smtp.connect()
        return smtp

    async def _send_on(self, smtp: aiosmtplib.SMTP, sender: str, email: Email) -> None:
        """Send one message; the connection is kept for the next one only if all went well."""
        options = SMTPUTF8_OPTIONS if email.smtputf8 else ()
        try:
            refused, _ = await smtp.sendmail(
                sender, [email.recipient], email.data, mail_options=options
            )
        except aiosmtplib.SMTPServerDisconnected:
            smtp.close()
            raise
        except Exception as error:
            smtp.close()
            if email.smtputf8 and isinstance(error, aiosmtplib.SMTPNotSupported):
                raise PermanentDeliveryError(
                    CHANNEL,
                    f"{email.recipient} has a non-ASCII local part, which needs SMTPUTF8 "
                    f"(RFC 6531), and the SMTP server {self.settings.host}:{self.settings.port} "
                    "does not offer it",
                ) from error
            raise classify(error) from error
        if refused:
            smtp.close()
            raise classify(
                aiosmtplib.SMTPRecipientsRefused(
                    [
                        aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, address)
                        for address, reply in refused.items()
                    ]
                )
            )
        if len(self._idle) < self._max_idle:
            self._idle.append((smtp, time.monotonic()))
        else:
            smtp.close()

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            smtp, since = self._idle.pop()
            if smtp.is_connected and time.monotonic() - since < self._idle_seconds:
                return smtp
            smtp.close()
        return None


def classify(error: Exception) -> DeliveryError:
    """4xx replies, refused connections and time-outs pass; 5xx replies and a server or
    address that can never work do not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in error.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in error.recipients)
        kind = (
            TemporaryDeliveryError if any(code < 500 for code in codes) else PermanentDeliveryError
        )
        return kind(CHANNEL, f"recipient refused: {detail}", code=min(codes, default=None))
    if isinstance(error, aiosmtplib.SMTPResponseException) and error.code >= 400:
        kind = PermanentDeliveryError if error.code >= 500 else TemporaryDeliveryError
        return kind(CHANNEL, f"{error.code} {error.message}", code=error.code)
    if isinstance(error, aiosmtplib.SMTPNotSupported | ssl.SSLCertVerificationError | ValueError):
        return PermanentDeliveryError(CHANNEL, repr(error))
    if isinstance(error, aiosmtplib.SMTPException | OSError | TimeoutError):
        return TemporaryDeliveryError(CHANNEL, repr(error))
    return PermanentDeliveryError(CHANNEL, f"unexpected: {error!r}")


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip("> ") or "gecc.localhost"
