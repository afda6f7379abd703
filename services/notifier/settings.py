from datetime import timedelta

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from services.notifier.adapters.mail import SmtpSettings
from services.notifier.domain.schedule import DEFAULT_OFFSETS_DAYS
from services.notifier.entrypoints.clock import RoundClockSettings
from services.notifier.entrypoints.sender import SenderSettings
from shared.email_addresses import normalized_email
from shared.retry import RetryPolicy
from shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="GECC_NOTIFIER_", extra="ignore")

    service_name: str = "notifier"
    database_url: str = "postgresql://notifier@127.0.0.1:5432/gecc"
    http_port: int = 8082

    # The round clock: reminders this many days before due_at; how often it looks again.
    reminder_days: list[int] = Field(default_factory=lambda: list(DEFAULT_OFFSETS_DAYS))
    clock_poll_seconds: float = 1.0
    # How often notices held for an unknown center or round are looked at again.
    held_sweep_seconds: float = 2.0

    # E-mail (the local stack's SMTP sink by default).
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_starttls: bool = False
    smtp_implicit_tls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "GECC <no-reply@gecc.localhost>"
    smtp_timeout_seconds: float = 30.0
    webhook_timeout_seconds: float = 10.0
    # Where the links of sign-in e-mails lead: the portal's address as people open it.
    portal_url: str = "http://127.0.0.1:8084"
    # Always told at a round's close, besides the 'operators' recipients in the database.
    operator_emails: list[str] = Field(default_factory=list)

    # The sender: how many deliveries at once, how often it looks, and its retries.
    delivery_batch_size: int = 200
    # Messages of a batch sent at once, each over an SMTP connection of its own (kept open
    # for the next message) or its own request. 32/200 against 8/50 in a round's burst
    # (bench/round.py): every receipt in the SMTP sink 1.7 s sooner (12.9 s against 14.6).
    delivery_concurrency: int = 32
    delivery_poll_seconds: float = 0.5
    # A sender that dies while sending loses its batch to another after this long.
    delivery_lease_seconds: float = 30.0
    delivery_max_attempts: int = 6
    delivery_first_retry_seconds: float = 1.0
    delivery_max_retry_seconds: float = 300.0
    # gecc_notifications_in_ledger is counted this often (a Prometheus scrape's interval).
    delivery_ledger_count_seconds: float = Field(15.0, gt=0)

    @field_validator("operator_emails")
    @classmethod
    def _deliverable(cls, addresses: list[str]) -> list[str]:
        """Checked like the recipients file's, and kept in the same normalized form."""
        return [normalized_email(address) for address in addresses]

    def smtp(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            starttls=self.smtp_starttls,
            implicit_tls=self.smtp_implicit_tls,
            username=self.smtp_username,
            password=self.smtp_password,
            from_address=self.smtp_from,
            timeout=self.smtp_timeout_seconds,
        )

    def round_clock(self) -> RoundClockSettings:
        return RoundClockSettings(
            reminder_days=tuple(self.reminder_days),
            operator_emails=tuple(self.operator_emails),
            poll_seconds=self.clock_poll_seconds,
        )

    def sender(self) -> SenderSettings:
        return SenderSettings(
            batch_size=self.delivery_batch_size,
            poll_seconds=self.delivery_poll_seconds,
            lease_seconds=self.delivery_lease_seconds,
            concurrency=self.delivery_concurrency,
            retry=RetryPolicy(
                max_attempts=self.delivery_max_attempts,
                first=timedelta(seconds=self.delivery_first_retry_seconds),
                cap=timedelta(seconds=self.delivery_max_retry_seconds),
            ),
        )
