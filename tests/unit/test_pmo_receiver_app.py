"""The reference PMO receiver's HTTP API in process (ASGI): statuses, bodies, counters."""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from gecc.pmo_receiver.app import MAX_BODY_BYTES, create_app
from gecc.pmo_receiver.client import signed_get_headers, signed_headers
from gecc.pmo_receiver.control import Injection
from gecc.pmo_receiver.storage import BatchStore

SECRET = "pmo-app-secret"
NOW = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
ROUND = "FY2570-H1"
BATCHES = f"/gecc/v1/rounds/{ROUND}/batches"
RECORDS = f"/gecc/v1/rounds/{ROUND}/records"
MIB = 1024 * 1024


def body_of(
    n: int, records: list[dict[str, Any]], export_id: str = "exp-1", kind: str = "full"
) -> bytes:
    payload = {"export_id": export_id, "round_id": ROUND, "kind": kind, "batch": n}
    return json.dumps({**payload, "records": records}).encode()


ONE = body_of(1, [{"center_id": "C1", "status": "on_time"}, {"center_id": "C2", "status": "late"}])


class Receiver:
    def __init__(self, directory: Path, injection: Injection, client: httpx.AsyncClient) -> None:
        self.directory = directory
        self.injection = injection
        self.client = client

    async def post(
        self, path: str, body: bytes, key: str, timestamp: int = TS, secret: str = SECRET
    ) -> httpx.Response:
        headers = signed_headers(secret, body, key, timestamp)
        return await self.client.post(path, content=body, headers=headers)

    async def get(
        self, path: str, timestamp: int = TS, signed_path: str | None = None
    ) -> httpx.Response:
        headers = signed_get_headers(SECRET, signed_path or path, timestamp)
        return await self.client.get(path, headers=headers)

    def stored(self) -> list[Path]:
        return sorted(self.directory.rglob("batch-*.json"))


@pytest.fixture
async def receiver(tmp_path: Path) -> AsyncIterator[Receiver]:
    injection = Injection(seed=1)
    app = create_app(BatchStore.open(tmp_path), injection, SECRET, now=lambda: NOW)
    transport = httpx.ASGITransport(app=app)  # the client is 127.0.0.1: loopback
    async with httpx.AsyncClient(transport=transport, base_url="http://pmo") as client:
        yield Receiver(tmp_path, injection, client)


async def test_a_batch_is_stored_once_and_a_repeat_is_a_duplicate(receiver: Receiver) -> None:
    first = await receiver.post(f"{BATCHES}/1", ONE, "k1")
    assert first.status_code == 201
    assert first.json() == {"export_id": "exp-1", "batch": 1, "accepted": 2, "duplicate": False}
    again = await receiver.post(f"{BATCHES}/1", ONE, "k1")
    assert again.status_code == 200
    assert again.json() == {"export_id": "exp-1", "batch": 1, "accepted": 2, "duplicate": True}
    assert len(receiver.stored()) == 1
    counters = (await receiver.client.get("/control")).json()["counters"]
    assert (counters["posts"], counters["stored"], counters["duplicates"]) == (2, 1, 1)
    view = (await receiver.get(RECORDS)).json()
    assert (view["batches"], view["duplicates_refused"], len(view["records"])) == (1, 1, 2)


async def test_concurrent_retries_of_one_batch_store_it_once(receiver: Receiver) -> None:
    await receiver.client.put("/control", json={"slow_share": 1, "slow_seconds": 0.05})
    answers = await asyncio.gather(*(receiver.post(f"{BATCHES}/1", ONE, "k1") for _ in range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len(receiver.stored()) == 1


@pytest.mark.parametrize(
    ("path", "body", "key", "status", "error"),
    [
        (f"{BATCHES}/1", body_of(1, [{"center_id": "C1", "status": "late"}]), "k1", 422, None),
        (f"{BATCHES}/1", body_of(1, [{"center_id": "C1", "status": "late"}]), "k9", 409, None),
        (f"{BATCHES}/2", ONE, "k2", 422, "path_mismatch"),
        ("/gecc/v1/rounds/FY2570-H2/batches/1", ONE, "k3", 422, "path_mismatch"),
        (f"{BATCHES}/0", body_of(0, []), "k4", 422, None),
        (f"{BATCHES}/1", b"not json", "k5", 422, "invalid_body"),
        (f"{BATCHES}/1", body_of(1, [{"center_id": "C", "status": "late"}] * 501), "k6", 413, None),
        (f"{BATCHES}/1", ONE, "", 400, "idempotency_key"),
    ],
)
async def test_refusals_store_nothing_and_say_why(
    receiver: Receiver, path: str, body: bytes, key: str, status: int, error: str | None
) -> None:
    assert (await receiver.post(f"{BATCHES}/1", ONE, "k1")).status_code == 201
    before = [p.read_bytes() for p in receiver.stored()]
    response = await receiver.post(path, body, key)
    assert response.status_code == status, response.text
    assert response.json()["reason"]
    if error is not None:
        assert response.json()["error"] == error
    assert [p.read_bytes() for p in receiver.stored()] == before


@pytest.mark.parametrize(
    ("timestamp", "secret", "reason"),
    [
        (TS, "not-the-secret", "does not match"),
        (TS - 301, SECRET, "301 s old"),
        (TS + 600, SECRET, "600 s in the future"),
    ],
)
async def test_a_bad_signature_or_stale_timestamp_is_401(
    receiver: Receiver, timestamp: int, secret: str, reason: str
) -> None:
    response = await receiver.post(f"{BATCHES}/1", ONE, "k1", timestamp, secret)
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert reason in response.json()["reason"]
    assert receiver.stored() == []
    assert (await receiver.client.get("/control")).json()["counters"]["refused_signature"] == 1


async def test_unsigned_is_401(receiver: Receiver) -> None:
    response = await receiver.client.post(
        f"{BATCHES}/1", content=ONE, headers={"Idempotency-Key": "k1"}
    )
    assert response.status_code == 401
    assert "missing X-GECC-Timestamp" in response.json()["reason"]


async def test_the_manifest_answers_what_was_received(receiver: Receiver) -> None:
    await receiver.post(f"{BATCHES}/1", ONE, "k1")
    manifest = {
        "export_id": "exp-1",
        "round_id": ROUND,
        "kind": "full",
        "batches": 2,
        "records": 3,
        "counts": {"on_time": 1, "late": 1, "missing": 1},
        "files": {},
    }
    path = f"/gecc/v1/rounds/{ROUND}/manifest"
    body = json.dumps(manifest).encode()
    incomplete = await receiver.post(path, body, "m1")
    assert incomplete.status_code == 200
    assert incomplete.json() == {
        "export_id": "exp-1",
        "batches_received": 1,
        "records_received": 2,
        "records_by_status": {"on_time": 1, "late": 1, "missing": 0},
        "complete": False,
    }
    await receiver.post(
        f"{BATCHES}/2", body_of(2, [{"center_id": "C3", "status": "missing"}]), "k2"
    )
    # The same manifest again (a retry) is answered with the counts as they are now.
    assert (await receiver.post(path, body, "m1")).json()["complete"] is True
    other = json.dumps({**manifest, "batches": 3}).encode()
    assert (await receiver.post(path, other, "m1")).status_code == 422
    unsigned = await receiver.client.post(path, content=body, headers={"Idempotency-Key": "m2"})
    assert unsigned.status_code == 401


async def test_fail_share_answers_503_before_storing_anything(receiver: Receiver) -> None:
    put = await receiver.client.put("/control", json={"fail_share": 1.0})
    assert put.status_code == 200
    assert put.json()["fail_share"] == 1.0
    for key in ("k1", "k1", "k2"):
        response = await receiver.post(f"{BATCHES}/1", ONE, key)
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
    assert receiver.stored() == []
    await receiver.client.put("/control", json={"fail_share": 0})
    assert (await receiver.post(f"{BATCHES}/1", ONE, "k1")).status_code == 201
    counters = (await receiver.client.get("/control")).json()["counters"]
    assert (counters["posts"], counters["failed_injected"], counters["stored"]) == (4, 3, 1)


async def test_a_slow_answer_still_stores_once(receiver: Receiver) -> None:
    await receiver.client.put("/control", json={"slow_share": 1, "slow_seconds": 0.3})
    started = time.monotonic()
    first = await receiver.post(f"{BATCHES}/1", ONE, "k1")
    assert time.monotonic() - started >= 0.3
    assert first.status_code == 201
    # Stored before the delay: a retry while the first answer is late is a duplicate.
    assert (await receiver.post(f"{BATCHES}/1", ONE, "k1")).json()["duplicate"] is True
    assert len(receiver.stored()) == 1
    assert (await receiver.client.get("/control")).json()["counters"]["slowed"] == 2


async def test_control_is_changed_from_loopback_only(tmp_path: Path) -> None:
    app = create_app(BatchStore.open(tmp_path), Injection(), SECRET)
    transport = httpx.ASGITransport(app=app, client=("10.1.2.3", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://pmo") as client:
        refused = await client.put("/control", json={"fail_share": 1})
        assert refused.status_code == 403
        assert (await client.get("/control")).json()["fail_share"] == 0.0
        assert (await client.get("/health")).json()["status"] == "ok"


async def test_a_bad_control_change_is_422(receiver: Receiver) -> None:
    for body in ({"fail_share": 2}, {"nope": 1}, [1]):
        response = await receiver.client.put("/control", json=body)
        assert response.status_code == 422
    assert (await receiver.client.get("/control")).json()["fail_share"] == 0.0


# -- what an attacker sends ------------------------------------------------------------------


class CountedBody:
    """A request body of ``mib`` chunks of 1 MiB, made as the receiver asks for them."""

    def __init__(self, mib: int) -> None:
        self.mib = mib
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b"x" * MIB
        for _ in range(self.mib):
            self.pulled += 1
            yield chunk


def well_formed_headers(key: str = "k1") -> dict[str, str]:
    """Fresh and well formed, but not over the body sent: only reading it all could tell."""
    return signed_headers(SECRET, b"another body", key, TS)


async def test_a_body_declared_over_the_limit_is_413_before_a_byte_is_read(
    receiver: Receiver,
) -> None:
    body = CountedBody(200)
    headers = {**well_formed_headers(), "Content-Length": str(200 * MIB)}
    response = await receiver.client.post(f"{BATCHES}/1", content=body, headers=headers)
    assert body.pulled == 0
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert str(MAX_BODY_BYTES) in response.json()["reason"]
    assert response.headers["connection"] == "close"
    assert receiver.stored() == []


async def test_a_streamed_body_is_413_as_soon_as_it_passes_the_limit(
    receiver: Receiver,
) -> None:
    body = CountedBody(200)  # no Content-Length: sent chunked
    response = await receiver.client.post(
        f"{BATCHES}/1", content=body, headers=well_formed_headers()
    )
    assert body.pulled == MAX_BODY_BYTES // MIB + 1
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"
    assert response.headers["connection"] == "close"
    assert receiver.stored() == []


async def test_a_body_just_under_the_limit_is_read_and_judged(receiver: Receiver) -> None:
    body = b" " * (MAX_BODY_BYTES - len(ONE)) + ONE  # JSON allows leading whitespace
    response = await receiver.post(f"{BATCHES}/1", body, "k1")
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Idempotency-Key": "k1"},
        {**well_formed_headers(), "X-GECC-Timestamp": "yesterday"},
        {**well_formed_headers(), "X-GECC-Timestamp": str(TS - 301)},
        {**well_formed_headers(), "X-GECC-Signature": "sha256=abc"},
    ],
    ids=["unsigned", "malformed timestamp", "stale", "malformed signature"],
)
async def test_a_missing_or_malformed_signature_is_401_before_a_byte_is_read(
    receiver: Receiver, headers: dict[str, str]
) -> None:
    for declared in (True, False):
        body = CountedBody(200)
        sent = {**headers, "Content-Length": str(200 * MIB)} if declared else headers
        response = await receiver.client.post(f"{BATCHES}/1", content=body, headers=sent)
        assert body.pulled == 0
        assert response.status_code == 401
        assert response.headers["connection"] == "close"


ARABIC_INDIC_TS = str(TS).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")).encode()
# Raw header bytes as a client may send them; Starlette decodes them as latin-1.
BAD_HEADER_BYTES = {
    "empty timestamp": ("X-GECC-Timestamp", b""),
    "blank timestamp": ("X-GECC-Timestamp", b"   "),
    "arabic-indic digits (utf-8)": ("X-GECC-Timestamp", ARABIC_INDIC_TS),
    "underscores": ("X-GECC-Timestamp", f"{TS:_}".encode()),
    "huge timestamp": ("X-GECC-Timestamp", b"9" * 400),
    "latin-1 byte in timestamp": ("X-GECC-Timestamp", b"17\xe9"),
    "empty signature": ("X-GECC-Signature", b""),
    "latin-1 signature": ("X-GECC-Signature", b"sha256=" + b"\xe9" * 64),
    "thai signature (utf-8)": ("X-GECC-Signature", ("sha256=" + "ก" * 21 + "a").encode()),
    "high bytes": ("X-GECC-Signature", bytes(range(0x80, 0x100))),
    "no prefix": ("X-GECC-Signature", b"0" * 64),
    "too short": ("X-GECC-Signature", b"sha256=" + b"0" * 63),
    "too long": ("X-GECC-Signature", b"sha256=" + b"0" * 65),
}


def with_raw(headers: dict[str, str], name: str, value: bytes) -> list[tuple[bytes, bytes]]:
    """``headers`` with the value of ``name`` replaced by raw bytes."""
    return [(k.encode(), value if k == name else v.encode()) for k, v in headers.items()]


@pytest.mark.parametrize(("name", "value"), BAD_HEADER_BYTES.values(), ids=BAD_HEADER_BYTES.keys())
async def test_any_bad_signature_header_value_is_401_never_500(
    tmp_path: Path, name: str, value: bytes
) -> None:
    app = create_app(BatchStore.open(tmp_path), Injection(), SECRET, now=lambda: NOW)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://pmo") as client:
        post_headers = with_raw(signed_headers(SECRET, ONE, "k1", TS), name, value)
        posted = await client.post(f"{BATCHES}/1", content=ONE, headers=post_headers)
        get_headers = with_raw(signed_get_headers(SECRET, RECORDS, TS), name, value)
        got = await client.get(RECORDS, headers=get_headers)
        for response in (posted, got):
            assert response.status_code == 401, (response.request.method, response.text)
            assert response.json()["error"] == "unauthorized"
            assert response.json()["reason"]
        assert Receiver(tmp_path, Injection(), client).stored() == []


async def test_reading_a_round_needs_a_signature_over_its_path(receiver: Receiver) -> None:
    assert (await receiver.post(f"{BATCHES}/1", ONE, "k1")).status_code == 201

    unsigned = await receiver.client.get(RECORDS)
    assert unsigned.status_code == 401
    assert "missing X-GECC-Timestamp" in unsigned.json()["reason"]

    signed = await receiver.get(RECORDS)
    assert signed.status_code == 200, signed.text
    assert [r["center_id"] for r in signed.json()["records"]] == ["C1", "C2"]

    # A captured read of one round does not open another, nor does a stale one open any.
    other_round = "/gecc/v1/rounds/FY2570-H2/records"
    replayed = await receiver.get(other_round, signed_path=RECORDS)
    assert replayed.status_code == 401
    assert "does not match" in replayed.json()["reason"]
    assert (await receiver.get(other_round)).status_code == 200
    assert (await receiver.get(RECORDS, timestamp=TS - 301)).status_code == 401
    counters = (await receiver.client.get("/control")).json()["counters"]
    assert counters["refused_signature"] == 3
