"""E-mail over SMTP (aiosmtplib): one message, one recipient, one connection."""

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from services.notifier.adapters.delivery import (
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from services.notifier.domain.messages import Message

CHANNEL = "email"


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


def to_email(message: Message, from_address: str, sent_at: datetime) -> EmailMessage:
    email = EmailMessage()
    email["From"] = from_address
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(sent_at.astimezone(UTC))
    email["Message-ID"] = f"<{message.delivery_id}@{_domain(from_address)}>"
    email["Auto-Submitted"] = "auto-generated"
    email["X-GECC-Kind"] = message.kind.value
    email["X-GECC-Round"] = message.round_id
    email["X-GECC-Delivery"] = message.delivery_id
    # base64 keeps Thai intact through relays that lack 8BITMIME.
    email.set_content(message.body, subtype="plain", charset="utf-8", cte="base64")
    return email


class SmtpSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, message: Message, sent_at: datetime | None = None) -> None:
        """Deliver or raise ``TemporaryDeliveryError`` / ``PermanentDeliveryError``."""
        settings = self.settings
        email = to_email(message, settings.from_address, sent_at or datetime.now(UTC))
        try:
            refused, _ = await aiosmtplib.send(
                email,
                hostname=settings.host,
                port=settings.port,
                username=settings.username,
                password=settings.password,
                start_tls=settings.starttls,
                use_tls=settings.implicit_tls,
                validate_certs=settings.validate_certs,
                timeout=settings.timeout,
            )
        except Exception as error:
            raise classify(error) from error
        if refused:
            raise classify(
                aiosmtplib.SMTPRecipientsRefused(
                    [
                        aiosmtplib.SMTPRecipientRefused(reply.code, reply.message, address)
                        for address, reply in refused.items()
                    ]
                )
            )


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
