"""The receiver's evidence routes in process (ASGI): a part signed over its SHA-256, stored,
refused when unsigned, lying about its hash or too large; a file completed, verified or
refused with 409; the status answering the parts held."""

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from gecc.pmo_receiver.app import create_app
from gecc.pmo_receiver.client import signed_get_headers, signed_headers
from gecc.pmo_receiver.control import Injection
from gecc.pmo_receiver.evidence import PART_SIZE
from gecc.pmo_receiver.storage import BatchStore
from shared.signing import (
    CONTENT_SHA256_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    streamed_signed_bytes,
)

SECRET = "pmo-evidence-secret"
NOW = datetime(2027, 5, 1, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
ROUND = "FY2570-H1"
CONTENT = b"%PDF-1.7\n" + b"evidence" * 1000
SHA = hashlib.sha256(CONTENT).hexdigest()
FILE = f"/gecc/v1/rounds/{ROUND}/evidence/{SHA}"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(BatchStore.open(tmp_path), Injection(seed=1), SECRET, now=lambda: NOW)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://pmo") as opened:
        yield opened


def part_headers(path: str, body: bytes, digest: str | None = None) -> dict[str, str]:
    digest = digest or hashlib.sha256(body).hexdigest()
    return {
        TIMESTAMP_HEADER: str(TS),
        SIGNATURE_HEADER: sign(SECRET, TS, streamed_signed_bytes("PUT", path, digest)),
        CONTENT_SHA256_HEADER: digest,
    }


async def put_part(client: httpx.AsyncClient, n: int, body: bytes, **kw: str) -> httpx.Response:
    path = f"{FILE}/parts/{n}"
    return await client.put(path, content=body, headers=part_headers(path, body, **kw))


async def complete(client: httpx.AsyncClient, size: int, sha_path: str = FILE) -> httpx.Response:
    body = f'{{"size": {size}}}'.encode()
    headers = signed_headers(SECRET, body, "unused", TS)
    return await client.post(f"{sha_path}/complete", content=body, headers=headers)


async def status(client: httpx.AsyncClient, path: str = FILE) -> httpx.Response:
    return await client.get(path, headers=signed_get_headers(SECRET, path, TS))


async def test_a_file_sent_in_a_part_is_verified_on_completion(
    client: httpx.AsyncClient,
) -> None:
    assert (await status(client)).json()["parts"] == []
    stored = await put_part(client, 1, CONTENT)
    assert stored.status_code == 201, stored.text
    held = (await status(client)).json()
    assert (held["parts"], held["received_bytes"], held["complete"]) == (
        [1],
        len(CONTENT),
        False,
    )
    done = await complete(client, len(CONTENT))
    assert done.status_code == 200, done.text
    assert done.json() == {"sha256": SHA, "size": len(CONTENT), "verified": True}
    assert (await status(client)).json()["complete"] is True


async def test_bytes_of_another_hash_are_refused_with_409_and_dropped(
    client: httpx.AsyncClient,
) -> None:
    assert (await put_part(client, 1, CONTENT[:-1] + b"!")).status_code == 201
    refused = await complete(client, len(CONTENT))
    assert refused.status_code == 409
    assert refused.json()["error"] == "sha256_mismatch"
    assert (await status(client)).json()["parts"] == []


async def test_refusals_name_their_reason(client: httpx.AsyncClient) -> None:
    path = f"{FILE}/parts/1"
    unsigned = await client.put(path, content=CONTENT)
    assert unsigned.status_code == 401
    lying = await put_part(client, 1, CONTENT, digest="0" * 64)
    assert (lying.status_code, lying.json()["error"]) == (422, "part_sha256_mismatch")
    too_large = await put_part(client, 1, b"x" * (PART_SIZE + 1))
    assert (too_large.status_code, too_large.json()["error"]) == (413, "too_large")
    missing = await complete(client, 2 * PART_SIZE)
    assert (missing.status_code, missing.json()["error"]) == (422, "parts_missing")
    bad = await status(client, f"/gecc/v1/rounds/{ROUND}/evidence/{'G' * 64}")
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_sha256")
    assert (await status(client)).json()["parts"] == []
