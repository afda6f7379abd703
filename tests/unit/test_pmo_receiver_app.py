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

from gecc.pmo_receiver.app import create_app
from gecc.pmo_receiver.client import signed_headers
from gecc.pmo_receiver.control import Injection
from gecc.pmo_receiver.storage import BatchStore

SECRET = "pmo-app-secret"
NOW = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
ROUND = "FY2570-H1"
BATCHES = f"/gecc/v1/rounds/{ROUND}/batches"


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
    view = (await receiver.client.get(f"/gecc/v1/rounds/{ROUND}/records")).json()
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
