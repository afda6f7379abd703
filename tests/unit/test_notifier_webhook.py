import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from services.intake.domain.rounds import default_round
from services.notifier.adapters.delivery import PermanentDeliveryError, TemporaryDeliveryError
from services.notifier.adapters.webhook import (
    WebhookEndpoint,
    WebhookSender,
)
from services.notifier.domain import messages
from services.notifier.domain.schedule import RoundSnapshot
from shared.clock import ManualClock
from shared.signing import sign, verify_signature

SECRET = "s3cret-for-the-bma-endpoint"
NOW = datetime(2027, 4, 23, 9, 0, tzinfo=UTC)
TIMESTAMP = str(int(NOW.timestamp()))
BODY = '{"kind":"reminder","text":"เรียน ศูนย์บริการ"}'.encode()
ENDPOINT = WebhookEndpoint("https://hooks.example.go.th/gecc", SECRET)

_h1 = default_round(2570, "H1")
H1 = RoundSnapshot(_h1.id, _h1.opens_at, _h1.due_at, _h1.closes_at)
CENTER = messages.CenterContact("C1", "ศูนย์ ก", "Center A", ENDPOINT.url)
REMINDER = messages.reminder(CENTER, H1, days_before=7)


def test_signature_is_hmac_sha256_over_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), TIMESTAMP.encode() + b"." + BODY, hashlib.sha256)
    assert sign(SECRET, TIMESTAMP, BODY) == f"sha256={expected.hexdigest()}"


def test_a_genuine_fresh_request_verifies() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    assert verify_signature(SECRET, TIMESTAMP, BODY, signature, NOW)
    assert verify_signature(SECRET, TIMESTAMP, BODY, signature, NOW + timedelta(seconds=300))


@pytest.mark.parametrize(
    ("secret", "timestamp", "body"),
    [
        ("another-secret", TIMESTAMP, BODY),
        (SECRET, str(int(TIMESTAMP) + 1), BODY),
        (SECRET, TIMESTAMP, BODY.replace("ศูนย์".encode(), "สำนักงาน".encode())),
        (SECRET, TIMESTAMP, BODY + b" "),
    ],
    ids=["wrong secret", "timestamp changed", "body changed", "byte appended"],
)
def test_tampering_is_detected(secret: str, timestamp: str, body: bytes) -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    assert not verify_signature(secret, timestamp, body, signature, NOW)


def test_replays_outside_five_minutes_are_refused() -> None:
    signature = sign(SECRET, TIMESTAMP, BODY)
    assert not verify_signature(SECRET, TIMESTAMP, BODY, signature, NOW + timedelta(seconds=301))
    assert not verify_signature(SECRET, TIMESTAMP, BODY, signature, NOW - timedelta(seconds=301))
    assert verify_signature(
        SECRET, TIMESTAMP, BODY, signature, NOW + timedelta(minutes=9), tolerance=600
    )


@pytest.mark.parametrize("signature", ["", "sha256=", "md5=abc", "sha256=" + "0" * 64])
def test_malformed_signatures_are_refused(signature: str) -> None:
    assert not verify_signature(SECRET, TIMESTAMP, BODY, signature, NOW)


def test_a_malformed_timestamp_is_refused() -> None:
    assert not verify_signature(SECRET, "yesterday", BODY, sign(SECRET, "yesterday", BODY), NOW)


def test_endpoints_use_https_except_on_loopback() -> None:
    WebhookEndpoint("http://127.0.0.1:9000/hook", SECRET)
    with pytest.raises(ValueError, match="https"):
        WebhookEndpoint("http://hooks.example.go.th/gecc", SECRET)
    with pytest.raises(ValueError, match="secret"):
        WebhookEndpoint("https://hooks.example.go.th/gecc", "")


def sender_to(handler: Callable[[httpx.Request], httpx.Response]) -> WebhookSender:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return WebhookSender(client, real_clock=ManualClock(NOW))


async def test_the_receiver_gets_a_signed_json_body_with_a_stable_delivery_id() -> None:
    received: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        ok = verify_signature(
            SECRET,
            request.headers["X-GECC-Timestamp"],
            request.content,
            request.headers["X-GECC-Signature"],
            NOW,
        )
        return httpx.Response(204 if ok else 401)

    sender = sender_to(receiver)
    await sender.send(ENDPOINT, REMINDER)
    await sender.send(ENDPOINT, REMINDER)

    first, again = received
    assert first.headers["X-GECC-Timestamp"] == TIMESTAMP
    assert first.headers["X-GECC-Delivery"] == again.headers["X-GECC-Delivery"]
    assert first.headers["X-GECC-Delivery"] == REMINDER.delivery_id
    assert first.headers["Content-Type"] == "application/json; charset=utf-8"
    payload = json.loads(first.content)
    assert payload["kind"] == "reminder"
    assert payload["round_id"] == "FY2570-H1"
    assert payload["data"] == {"center_id": "C1", "due_at": H1.due_at.isoformat(), "days_before": 7}
    assert "30 เมษายน 2570".encode() in first.content  # UTF-8, not \u escapes


@pytest.mark.parametrize("status", [500, 502, 503, 429, 408])
async def test_server_errors_and_throttling_are_temporary(status: int) -> None:
    sender = sender_to(lambda _: httpx.Response(status, headers={"Retry-After": "30"}))
    with pytest.raises(TemporaryDeliveryError) as failure:
        await sender.send(ENDPOINT, REMINDER)
    assert failure.value.code == status
    assert failure.value.retry_after == 30
    assert failure.value.temporary


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 422, 301])
async def test_other_client_errors_are_permanent(status: int) -> None:
    sender = sender_to(lambda _: httpx.Response(status))
    with pytest.raises(PermanentDeliveryError) as failure:
        await sender.send(ENDPOINT, REMINDER)
    assert failure.value.code == status
    assert not failure.value.temporary


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
async def test_network_failures_are_temporary(error: httpx.TransportError) -> None:
    def broken(_: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(TemporaryDeliveryError) as failure:
        await sender_to(broken).send(ENDPOINT, REMINDER)
    assert failure.value.code is None


async def test_retry_after_may_be_an_http_date() -> None:
    later = format_datetime(NOW + timedelta(minutes=2), usegmt=True)
    sender = sender_to(lambda _: httpx.Response(503, headers={"Retry-After": later}))
    with pytest.raises(TemporaryDeliveryError) as failure:
        await sender.send(ENDPOINT, REMINDER)
    assert failure.value.retry_after == 120
