"""How GECC signs what it sends to other systems (spec §7): webhooks and the PMO export.

HMAC-SHA256 with a shared secret over ``f"{timestamp}."`` followed by the exact body bytes;
headers ``X-GECC-Timestamp`` (Unix seconds) and ``X-GECC-Signature: sha256=<hex>``. A
receiver refuses a timestamp more than five minutes off, so a captured request cannot be
replayed later.
"""

import hashlib
import hmac
from datetime import datetime

TIMESTAMP_HEADER = "X-GECC-Timestamp"
SIGNATURE_HEADER = "X-GECC-Signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> bool:
    """For receivers: the body is ours and fresh. A timestamp more than ``tolerance`` seconds
    from ``now`` (either way) is refused, so a captured request cannot be replayed later;
    within that window receivers drop repeats by ``X-GECC-Delivery``."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    if abs(now.timestamp() - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body), signature.strip())
