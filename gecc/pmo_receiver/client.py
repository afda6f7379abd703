"""The sending side in a few lines, for tests and the demo: the headers of one signed POST or
GET."""

import time

from gecc.pmo_receiver.contract import IDEMPOTENCY_HEADER, signed_bytes_of_get
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


def signed_get_headers(secret: str, path: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers for GETting ``path`` (``/gecc/v1/rounds/FY2570-H1/records``, no query string):
    the path stands in for the body, so the signature opens this one path only."""
    sent = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(sent),
        SIGNATURE_HEADER: sign(secret, sent, signed_bytes_of_get(path)),
    }
