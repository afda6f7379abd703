"""An export cut into batches for the PMO system, and the exact bytes each call sends."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from services.export.domain.dataset import ExportRecord

Kind = Literal["full", "delta"]
BATCH_SIZE = 500


@dataclass(frozen=True)
class Batch:
    number: int
    records: tuple[ExportRecord, ...]
    idempotency_key: str


@dataclass(frozen=True)
class BatchCall:
    """A batch as it is sent: fixed when the export is built, the same bytes on every try."""

    number: int
    idempotency_key: str
    records: int
    body: bytes


def split(export_id: str, records: Sequence[ExportRecord], size: int = BATCH_SIZE) -> list[Batch]:
    """Batches of at most ``size`` records in the given order, numbered from 1.

    The same export always gives the same batches under the same keys, so a resumed
    delivery repeats a batch the PMO system may already hold instead of adding a new one.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, not {size}")
    return [
        Batch(number, tuple(records[start : start + size]), idempotency_key(export_id, number))
        for number, start in enumerate(range(0, len(records), size), start=1)
    ]


def idempotency_key(export_id: str, number: int) -> str:
    return f"{export_id}:{number}"


def manifest_key(export_id: str) -> str:
    return f"{export_id}:manifest"


def calls(export_id: str, round_id: str, kind: Kind, batches: Sequence[Batch]) -> list[BatchCall]:
    return [
        BatchCall(
            b.number, b.idempotency_key, len(b.records), batch_body(export_id, round_id, kind, b)
        )
        for b in batches
    ]


def batch_body(export_id: str, round_id: str, kind: Kind, batch: Batch) -> bytes:
    return _canonical(
        {
            "export_id": export_id,
            "round_id": round_id,
            "kind": kind,
            "batch": batch.number,
            "records": [r.to_json() for r in batch.records],
        }
    )


def manifest_body(
    export_id: str,
    round_id: str,
    kind: Kind,
    batches: Sequence[Batch],
    counts: Mapping[str, int],
    files: Mapping[str, str],
) -> bytes:
    """The final call: how many batches and records were sent, the counts, each file's SHA-256."""
    return _canonical(
        {
            "export_id": export_id,
            "round_id": round_id,
            "kind": kind,
            "batches": len(batches),
            "records": sum(len(b.records) for b in batches),
            "counts": dict(sorted(counts.items())),
            "files": dict(sorted(files.items())),
        }
    )


def _canonical(body: dict[str, Any]) -> bytes:
    """UTF-8 JSON, compact, Thai as is, keys in the order built (records keep field order)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
