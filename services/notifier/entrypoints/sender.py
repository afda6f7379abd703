"""The sender: works through the delivery ledger, each message over its channel, retrying
with backoff and giving up (dead letter) after the last attempt."""

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg

from services.notifier.adapters import repository
from services.notifier.adapters.delivery import DeliveryError
from services.notifier.adapters.mail import SmtpSender
from services.notifier.adapters.repository import Delivery
from services.notifier.adapters.webhook import WebhookEndpoint, WebhookSender
from services.notifier.domain.rendering import Kind
from services.notifier.metrics import NotifierMetrics
from shared.database import DATABASE_UNAVAILABLE
from shared.retry import GiveUp, RetryPolicy

log = logging.getLogger(__name__)
EXPIRED = "expired before it could be sent"


@dataclass(frozen=True)
class SenderSettings:
    """How much the sender takes at once, how often it looks, and its retries."""

    batch_size: int = 50
    poll_seconds: float = 0.5
    lease_seconds: float = 30.0
    concurrency: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)


async def count_ledger(pool: asyncpg.Pool, metrics: NotifierMetrics) -> None:
    """Show the ledger by kind and status, every pair (0 once the last one left it)."""
    counts = await repository.delivery_counts(pool)
    for kind in Kind:
        for status in repository.LEDGER_STATUSES:
            metrics.deliveries.labels(kind, status).set(counts.get((kind, status), 0))


async def keep_ledger_counted(pool: asyncpg.Pool, metrics: NotifierMetrics, every: float) -> None:
    """``count_ledger`` every ``every`` seconds (a whole-table count: not after each batch)."""
    while True:
        await count_ledger(pool, metrics)
        await asyncio.sleep(every)


class Sender:
    def __init__(
        self,
        pool: asyncpg.Pool,
        mail: SmtpSender,
        webhooks: WebhookSender,
        metrics: NotifierMetrics,
        settings: SenderSettings,
    ) -> None:
        self._pool = pool
        self._mail = mail
        self._webhooks = webhooks
        self._metrics = metrics
        self._policy = settings.retry
        self._batch_size = settings.batch_size
        self._poll = settings.poll_seconds
        self._lease = settings.lease_seconds
        self._concurrency = settings.concurrency

    async def run(self) -> None:
        while True:
            try:
                sent = await self.send_due()
            except DATABASE_UNAVAILABLE as error:
                log.warning("sender: database unavailable (%s); trying again", error)
                sent = 0
            # Look again at once while there was work: messages queued meanwhile (a burst
            # of receipts) should not wait out a poll interval behind a part-full batch.
            if not sent:
                await asyncio.sleep(self._poll)

    async def send_due(self) -> int:
        """Deliver one batch of due messages, ``concurrency`` at a time, each group marked
        sent in one statement once it is delivered; return how many were taken.

        A process that dies sends again at most the group it was sending (the messages
        carry their delivery id as Message-ID): as many as were in flight before, one
        statement per group instead of one per message."""
        batch = await repository.claim_deliveries(self._pool, self._batch_size, self._lease)
        for start in range(0, len(batch), self._concurrency):
            group = batch[start : start + self._concurrency]
            delivered = await asyncio.gather(*(self.deliver(d) for d in group))
            sent = [d for d, ok in zip(group, delivered, strict=True) if ok]
            await repository.mark_sent(self._pool, [d.id for d in sent])
            for d in sent:
                self._metrics.notifications.labels(d.message.kind.value, d.channel, "sent").inc()
        return len(batch)

    async def deliver(self, delivery: Delivery) -> bool:
        """Send one message: True when delivered (the caller marks it sent); a failure is
        recorded here as a retry or, after the last attempt, a dead letter."""
        kind = delivery.message.kind.value
        if delivery.message.expired(datetime.now(UTC)):
            await repository.mark_dead(self._pool, delivery.id, EXPIRED)
            self._metrics.notifications.labels(kind, delivery.channel, "dead_lettered").inc()
            log.error("gave up on delivery %s: %s", delivery.id, EXPIRED)
            return False
        try:
            if delivery.channel == "webhook":
                endpoint = WebhookEndpoint(delivery.message.recipient, delivery.secret or "")
                await self._webhooks.send(endpoint, delivery.message)
            else:
                await self._mail.send(delivery.message)
        except (DeliveryError, ValueError) as error:
            permanent = isinstance(error, ValueError) or not error.temporary
            attempt = delivery.attempts + 1
            decision = self._policy.after_failure(
                attempt, permanent=permanent, random=random.random()
            )
            if isinstance(decision, GiveUp):
                await repository.mark_dead(self._pool, delivery.id, str(error))
                self._metrics.notifications.labels(kind, delivery.channel, "dead_lettered").inc()
                log.error(
                    "gave up on delivery %s after %d attempt(s): %s", delivery.id, attempt, error
                )
                return False
            delay = decision.delay
            if isinstance(error, DeliveryError) and error.retry_after:
                delay = max(delay, timedelta(seconds=error.retry_after))
            await repository.mark_retry(
                self._pool, delivery.id, datetime.now(UTC) + delay, str(error)
            )
            self._metrics.notifications.labels(kind, delivery.channel, "retried").inc()
            return False
        return True
