"""How GECC signs what it sends to other systems (spec §7): webhooks and the PMO export.

HMAC-SHA256 with a shared secret over ``f"{timestamp}."`` followed by the exact body bytes;
headers ``X-GECC-Timestamp`` (Unix seconds) and ``X-GECC-Signature: sha256=<hex>``. A
receiver refuses a timestamp more than five minutes off, so a captured request cannot be
replayed later.
"""

import hashlib
import hmac
import re
from datetime import datetime

TIMESTAMP_HEADER = "X-GECC-Timestamp"
SIGNATURE_HEADER = "X-GECC-Signature"
TOLERANCE_SECONDS = 300

# ASCII digits spelled out, no leading zero: ``int()`` and ``\d`` also take Arabic-Indic digits,
# "1_000", " 17 ", "017" and numbers too large to subtract from a float. 12 digits reach the
# year 33658.
_TIMESTAMP = re.compile(r"[1-9][0-9]{0,11}")
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def parse_timestamp(value: str) -> int | None:
    """The Unix seconds of an ``X-GECC-Timestamp`` value, or ``None`` unless it is a positive
    whole number in at most 12 ASCII digits without a leading zero."""
    return int(value) if _TIMESTAMP.fullmatch(value) else None


def is_well_formed(signature: str) -> bool:
    """``sha256=`` and 64 lower-case hex digits, as ``sign`` writes it."""
    return _SIGNATURE.fullmatch(signature) is not None


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
    within that window receivers drop repeats by ``X-GECC-Delivery``. Any header value,
    however malformed, gives ``False``, never an exception."""
    sent = parse_timestamp(timestamp)
    if sent is None or not is_well_formed(signature):
        return False
    if abs(now.timestamp() - sent) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, sent, body).encode(), signature.encode())


CONTENT_SHA256_HEADER = "X-GECC-Content-SHA256"
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")


def streamed_signed_bytes(method: str, path: str, content_sha256: str) -> bytes:
    """What a streamed upload (an evidence part) signs in place of its body: the method, the
    path (percent-decoded) and the body's SHA-256, which it sends in ``X-GECC-Content-SHA256``.
    The headers can so be signed before the body is read, by the sender and by the receiver,
    and the receiver checks the body against the digest as it arrives."""
    return f"{method} {path}\n{content_sha256}".encode()


def is_sha256_hex(value: str) -> bool:
    """64 lower-case hex digits."""
    return _HEX_SHA256.fullmatch(value) is not None
