"""The OPS/PMO central system's receiving API, as the export calls it (spec §6, §7): each
batch and the closing manifest signed (HMAC-SHA256 over timestamp and body) and carrying
an Idempotency-Key, so a retried call is stored once; evidence files in parts, each part
streamed and signed over its SHA-256, the receiver asked which parts it holds."""

import json
from collections.abc import AsyncIterable
from typing import Any

import httpx

from shared.clock import Clock, SystemClock
from shared.signing import (
    CONTENT_SHA256_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    streamed_signed_bytes,
)

TEMPORARY_STATUSES = frozenset({408, 425, 429})


class PmoError(Exception):
    """A call failed; ``temporary``: worth retrying with backoff."""

    def __init__(self, detail: str, temporary: bool) -> None:
        super().__init__(detail)
        self.temporary = temporary


class EvidenceMismatch(PmoError):
    """The receiver assembled a file whose SHA-256 is not the one it was sent as (409)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail, temporary=True)


class PmoClient:
    def __init__(
        self, client: httpx.AsyncClient, base_url: str, secret: str, clock: Clock | None = None
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._secret = secret
        # Real time even when the round clock runs fast: the receiver checks the timestamp.
        self._clock = clock or SystemClock()

    async def send_batch(
        self, round_id: str, number: int, idempotency_key: str, body: bytes
    ) -> dict[str, Any]:
        return await self._post(
            f"/gecc/v1/rounds/{round_id}/batches/{number}", idempotency_key, body
        )

    async def send_manifest(
        self, round_id: str, idempotency_key: str, body: bytes
    ) -> dict[str, Any]:
        return await self._post(f"/gecc/v1/rounds/{round_id}/manifest", idempotency_key, body)

    async def evidence_parts(self, round_id: str, sha256: str) -> tuple[list[int], bool]:
        """The parts of the file the receiver holds, and whether it has verified it whole."""
        path = _evidence_path(round_id, sha256)
        # A GET signs its path in place of the empty body (the receiver's rule).
        answer = await self._send("GET", path, path.encode(), {})
        return [int(n) for n in answer.get("parts", [])], bool(answer.get("complete"))

    async def send_part(
        self,
        round_id: str,
        sha256: str,
        number: int,
        part_sha256: str,
        length: int,
        chunks: AsyncIterable[bytes],
    ) -> None:
        """One part, streamed: the signature covers its SHA-256, sent ahead in a header."""
        path = f"{_evidence_path(round_id, sha256)}/parts/{number}"
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(length),
            CONTENT_SHA256_HEADER: part_sha256,
        }
        signed = streamed_signed_bytes("PUT", path, part_sha256)
        await self._send("PUT", path, signed, headers, content=chunks)

    async def complete_evidence(self, round_id: str, sha256: str, size: int) -> dict[str, Any]:
        """Ask the receiver to assemble the file; EvidenceMismatch when its SHA-256 differs."""
        path = f"{_evidence_path(round_id, sha256)}/complete"
        body = json.dumps({"size": size}).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return await self._send("POST", path, body, headers, content=body)

    async def send_evidence_manifest(
        self, round_id: str, idempotency_key: str, body: bytes
    ) -> dict[str, Any]:
        return await self._post(
            f"/gecc/v1/rounds/{round_id}/evidence/manifest", idempotency_key, body
        )

    async def _post(self, path: str, idempotency_key: str, body: bytes) -> dict[str, Any]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key,
        }
        return await self._send("POST", path, body, headers, content=body)

    async def _send(
        self,
        method: str,
        path: str,
        signed: bytes,
        headers: dict[str, str],
        content: bytes | AsyncIterable[bytes] | None = None,
    ) -> dict[str, Any]:
        timestamp = int(self._clock.now().timestamp())
        headers = {
            **headers,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, signed),
        }
        url = self._base + path
        try:
            response = await self._client.request(method, url, content=content, headers=headers)
        except httpx.TransportError as error:  # timeouts, refused and reset connections
            raise PmoError(f"{url}: {type(error).__name__}: {error}", temporary=True) from error
        status = response.status_code
        if status == 409 and path.endswith("/complete"):
            raise EvidenceMismatch(f"{url} answered 409: {response.text[:300]}")
        if 200 <= status < 300:
            answer: dict[str, Any] = json.loads(response.content or b"{}")
            return answer
        detail = f"{url} answered {status}: {response.text[:200]}"
        raise PmoError(detail, temporary=status >= 500 or status in TEMPORARY_STATUSES)


def _evidence_path(round_id: str, sha256: str) -> str:
    return f"/gecc/v1/rounds/{round_id}/evidence/{sha256}"
