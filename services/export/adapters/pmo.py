"""The OPS/PMO central system's receiving API, as the export calls it (spec §6, §7): each
batch and the closing manifest signed (HMAC-SHA256 over timestamp and body) and carrying
an Idempotency-Key, so a retried call is stored once."""

import json
from typing import Any

import httpx

from shared.clock import Clock, SystemClock
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

TEMPORARY_STATUSES = frozenset({408, 425, 429})


class PmoError(Exception):
    """A call failed; ``temporary``: worth retrying with backoff."""

    def __init__(self, detail: str, temporary: bool) -> None:
        super().__init__(detail)
        self.temporary = temporary


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

    async def _post(self, path: str, idempotency_key: str, body: bytes) -> dict[str, Any]:
        timestamp = int(self._clock.now().timestamp())
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": idempotency_key,
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
        }
        url = self._base + path
        try:
            response = await self._client.post(url, content=body, headers=headers)
        except httpx.TransportError as error:  # timeouts, refused and reset connections
            raise PmoError(f"{url}: {type(error).__name__}: {error}", temporary=True) from error
        status = response.status_code
        if 200 <= status < 300:
            answer: dict[str, Any] = json.loads(response.content or b"{}")
            return answer
        detail = f"{url} answered {status}: {response.text[:200]}"
        raise PmoError(detail, temporary=status >= 500 or status in TEMPORARY_STATUSES)
