"""Signed HTTPS webhooks: JSON body, HMAC-SHA256 over ``f"{timestamp}.{body}"`` (spec §7).

Headers: ``X-GECC-Timestamp`` (unix seconds), ``X-GECC-Signature: sha256=<hex>``,
``X-GECC-Delivery`` (the same id on every retry of a message, so a receiver can drop repeats).
"""

import json
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from services.notifier.adapters.delivery import PermanentDeliveryError, TemporaryDeliveryError
from services.notifier.domain.messages import Message
from shared.clock import Clock, SystemClock
from shared.signing import sign

CHANNEL = "webhook"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
TEMPORARY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True)
class WebhookEndpoint:
    url: str
    secret: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
            raise ValueError(f"webhook {self.url!r} must use https (plain http only on loopback)")
        if not self.secret:
            raise ValueError(f"webhook {self.url!r} needs a secret to sign with")


def body_of(message: Message) -> bytes:
    payload: dict[str, Any] = {
        "delivery_id": message.delivery_id,
        "kind": message.kind.value,
        "round_id": message.round_id,
        "submission_id": None if message.submission_id is None else str(message.submission_id),
        "version": message.version,
        "subject": message.subject,
        "text": message.body,
        "data": dict(message.data),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    """Posts messages to endpoints. ``real_clock`` stamps requests: it must be real time even
    when the round clock runs fast, or receivers refuse the timestamp."""

    def __init__(self, client: httpx.AsyncClient, real_clock: Clock | None = None) -> None:
        self._client = client
        self._clock = real_clock or SystemClock()

    async def send(self, endpoint: WebhookEndpoint, message: Message) -> None:
        await post_signed(
            self._client,
            endpoint,
            body_of(message),
            delivery_id=message.delivery_id,
            timestamp=int(self._clock.now().timestamp()),
        )


async def post_signed(
    client: httpx.AsyncClient,
    endpoint: WebhookEndpoint,
    body: bytes,
    *,
    delivery_id: str,
    timestamp: int,
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-GECC-Timestamp": str(timestamp),
        "X-GECC-Signature": sign(endpoint.secret, timestamp, body),
        "X-GECC-Delivery": delivery_id,
    }
    try:
        response = await client.post(endpoint.url, content=body, headers=headers)
    except httpx.TransportError as error:
        raise TemporaryDeliveryError(CHANNEL, f"{endpoint.url}: {error!r}") from error
    status = response.status_code
    if 200 <= status < 300:
        return response
    detail = f"{endpoint.url} answered {status}: {response.text[:200]}"
    if status >= 500 or status in TEMPORARY_STATUSES:
        retry_after = _retry_after(response.headers.get("Retry-After"), timestamp)
        raise TemporaryDeliveryError(CHANNEL, detail, code=status, retry_after=retry_after)
    raise PermanentDeliveryError(CHANNEL, detail, code=status)


def _retry_after(value: str | None, now: int) -> float | None:
    if value is None:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError):
        return None
