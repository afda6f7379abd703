"""What a request must carry: a fresh valid signature, an idempotency key, a well-formed body.

Each check answers ``None`` (fine) or the reason to give the caller, so the decisions can be
tested without a server.
"""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError

from gecc.pmo_receiver import MAX_RECORDS
from shared.signing import (
    CONTENT_SHA256_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    TOLERANCE_SECONDS,
    is_sha256_hex,
    is_well_formed,
    parse_timestamp,
    streamed_signed_bytes,
    verify_signature,
)
from shared.validation import validation_problems

IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
STATUSES = ("on_time", "late", "missing")

M = TypeVar("M", bound=BaseModel)


class Record(BaseModel):
    """One center's line of the dataset: only what the receiver counts is checked."""

    model_config = ConfigDict(extra="allow")

    center_id: str = Field(min_length=1, max_length=200)
    status: Literal["on_time", "late", "missing"]


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    export_id: str = Field(min_length=1, max_length=200)
    round_id: str = Field(min_length=1, max_length=200)
    kind: Literal["full", "delta"]
    batch: StrictInt = Field(ge=1)
    records: list[Record] = Field(max_length=MAX_RECORDS)


class ManifestBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    export_id: str = Field(min_length=1, max_length=200)
    round_id: str = Field(min_length=1, max_length=200)
    kind: Literal["full", "delta"]
    batches: StrictInt = Field(ge=0)
    records: StrictInt = Field(ge=0)
    counts: dict[str, StrictInt]
    files: dict[str, Any] = Field(default_factory=dict)


SHA256_PATTERN = r"^[0-9a-f]{64}$"


class EvidenceReference(BaseModel):
    model_config = ConfigDict(extra="allow")

    center_id: str = Field(min_length=1, max_length=200)
    item_code: str = Field(min_length=1, max_length=200)
    name: str = Field(max_length=1000)


class EvidenceFileEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    sha256: str = Field(pattern=SHA256_PATTERN)
    size: StrictInt = Field(ge=0)
    content_type: str = Field(min_length=1, max_length=200)
    references: list[EvidenceReference] = Field(min_length=1)


class EvidenceManifestBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    export_id: str = Field(min_length=1, max_length=200)
    round_id: str = Field(min_length=1, max_length=200)
    files: list[EvidenceFileEntry]


class CompleteBody(BaseModel):
    model_config = ConfigDict(extra="allow")

    size: StrictInt = Field(ge=0, le=1 << 40)


class Refusal(Exception):
    """The request is refused with ``status`` and a reason the caller can act on.
    ``body_unread``: refused before its body was read; the connection is then closed after
    the answer rather than kept open to drain a body nobody wants."""

    def __init__(self, status: int, error: str, reason: str, body_unread: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.body_unread = body_unread

    def payload(self) -> dict[str, str]:
        return {"error": self.error, "reason": self.reason}


def header_problem(
    headers: Mapping[str, str], now: datetime, tolerance: int = TOLERANCE_SECONDS
) -> str | None:
    """What is wrong with the signature headers on their own, or ``None``: checked before a
    byte of the body is read."""
    timestamp = headers.get(TIMESTAMP_HEADER)
    signature = headers.get(SIGNATURE_HEADER)
    if not timestamp:
        return f"missing {TIMESTAMP_HEADER} header (Unix seconds)"
    if not signature:
        return f"missing {SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256>)"
    sent = parse_timestamp(timestamp)
    if sent is None:
        return f"{TIMESTAMP_HEADER}={_shown(timestamp)} is not whole Unix seconds in ASCII digits"
    skew = now.timestamp() - sent
    if abs(skew) > tolerance:
        direction = "old" if skew > 0 else "in the future"
        return (
            f"{TIMESTAMP_HEADER} is {abs(skew):.0f} s {direction}; at most {tolerance} s either "
            "way is accepted (sign each attempt afresh with the current time)"
        )
    if not is_well_formed(signature):
        return f"{SIGNATURE_HEADER}={_shown(signature)} is not sha256=<64 lower-case hex digits>"
    return None


def signature_problem(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
    tolerance: int = TOLERANCE_SECONDS,
) -> str | None:
    """Why the request's signature is not acceptable, or ``None`` when it is. Never raises,
    whatever the header values."""
    problem = header_problem(headers, now, tolerance)
    if problem is not None:
        return problem
    timestamp, signature = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    if not verify_signature(secret, timestamp, body, signature, now, tolerance):
        return (
            f"{SIGNATURE_HEADER} does not match: expected sha256=<hex HMAC-SHA256 of "
            f"'{{timestamp}}.' + body> with the shared secret"
        )
    return None


def _shown(value: str) -> str:
    """A header value quoted for a reason, cut short: a caller may send kilobytes."""
    return repr(value if len(value) <= 40 else value[:40] + "...")


def signed_bytes_of_get(path: str) -> bytes:
    """What a GET signs in place of its empty body: its path, percent-decoded, in UTF-8 (the
    bytes of ``/gecc/v1/rounds/FY2570-H1/records``), so a signed read of one round cannot be
    replayed on another."""
    return path.encode()


def streamed_signature_problem(
    secret: str, headers: Mapping[str, str], method: str, path: str, now: datetime
) -> str | None:
    """Why a streamed upload's signature (over method, path and the body's SHA-256 given in
    ``X-GECC-Content-SHA256``) is not acceptable, or ``None``: checked before the body."""
    digest = headers.get(CONTENT_SHA256_HEADER, "")
    if not is_sha256_hex(digest):
        return f"{CONTENT_SHA256_HEADER} must be the body's SHA-256 in 64 lower-case hex digits"
    problem = signature_problem(secret, headers, streamed_signed_bytes(method, path, digest), now)
    if problem is not None and problem.startswith(f"{SIGNATURE_HEADER} does not match"):
        return (
            f"{SIGNATURE_HEADER} does not match: expected sha256=<hex HMAC-SHA256 of "
            f"'{{timestamp}}.' + '{method} {{path}}\\n{{{CONTENT_SHA256_HEADER}}}'>"
        )
    return problem


def sha256_in_path(value: str) -> str:
    if not is_sha256_hex(value):
        raise Refusal(422, "invalid_sha256", f"{value[:80]!r} is not 64 lower-case hex digits")
    return value


def parse_evidence_manifest(body: bytes, round_id: str) -> EvidenceManifestBody:
    parsed = _validate(EvidenceManifestBody, _json_object(body))
    _same("round_id", parsed.round_id, round_id)
    return parsed


def parse_complete(body: bytes) -> CompleteBody:
    return _validate(CompleteBody, _json_object(body))


def idempotency_key(headers: Mapping[str, str]) -> str:
    key = (headers.get(IDEMPOTENCY_HEADER) or "").strip()
    if not key:
        raise Refusal(400, "idempotency_key", f"missing {IDEMPOTENCY_HEADER} header")
    if len(key) > MAX_KEY_LENGTH:
        raise Refusal(
            400, "idempotency_key", f"{IDEMPOTENCY_HEADER} longer than {MAX_KEY_LENGTH} characters"
        )
    return key


def parse_batch(body: bytes, round_id: str, batch: int) -> tuple[BatchBody, dict[str, Any]]:
    """The validated batch and the body as sent (every field of every record kept)."""
    raw = _json_object(body)
    records = raw.get("records")
    if isinstance(records, list) and len(records) > MAX_RECORDS:
        raise Refusal(
            413, "too_many_records", f"{len(records)} records in one batch; at most {MAX_RECORDS}"
        )
    parsed = _validate(BatchBody, raw)
    _same("round_id", parsed.round_id, round_id)
    _same("batch", parsed.batch, batch)
    return parsed, raw


def parse_manifest(body: bytes, round_id: str) -> ManifestBody:
    parsed = _validate(ManifestBody, _json_object(body))
    _same("round_id", parsed.round_id, round_id)
    return parsed


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Refusal(422, "invalid_body", f"the body is not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise Refusal(422, "invalid_body", "the body must be a JSON object")
    return raw


def _validate(model: type[M], raw: dict[str, Any]) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        raise Refusal(422, "invalid_body", validation_problems(error, "body", most=10)) from None


def _same(name: str, in_body: object, in_path: object) -> None:
    if in_body != in_path:
        raise Refusal(
            422, "path_mismatch", f"{name} is {in_body!r} in the body but {in_path!r} in the path"
        )
