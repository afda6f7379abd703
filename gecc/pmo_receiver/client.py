"""The sending side in a few lines, for tests and the demo: the headers of one signed POST."""

import time

from gecc.pmo_receiver.contract import IDEMPOTENCY_HEADER
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign


def signed_headers(
    secret: str, body: bytes, idempotency_key: str, timestamp: int | None = None
) -> dict[str, str]:
    """Headers for POSTing ``body`` (exact bytes) to the receiver; ``timestamp``: now."""
    sent = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(sent),
        SIGNATURE_HEADER: sign(secret, sent, body),
        IDEMPOTENCY_HEADER: idempotency_key,
    }
