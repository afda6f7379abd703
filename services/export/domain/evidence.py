"""Evidence files in the export (spec §10): how a record lists them, and a round's evidence
package for the PMO system — each distinct file once (content-addressed by SHA-256) with
every (center, item, name) that references it, sent in parts of ``PART_SIZE`` bytes so a
broken transfer resumes with the parts the receiver lacks."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

PART_SIZE = 8 * 1024 * 1024
# A file whose assembled SHA-256 the receiver refuses is sent again this many times in all
# (a transfer corrupted on the way heals; an object corrupted in storage does not).
MISMATCH_TRIES = 3
EVIDENCE_FIELDS = ("center_id", "item_code", "name", "content_type", "size", "sha256")


class EvidenceEntry(TypedDict):
    """One file a record's version references, as the record lists it."""

    item_code: str
    name: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Reference:
    center_id: str
    item_code: str
    name: str


@dataclass(frozen=True)
class PackageFile:
    sha256: str
    size: int
    content_type: str
    references: tuple[Reference, ...]


def entry(value: Any) -> EvidenceEntry:
    """An entry from the stored JSON (or an event's EvidenceFile dumped), extra keys dropped."""
    return EvidenceEntry(
        item_code=str(value["item_code"]),
        name=str(value["name"]),
        content_type=str(value["content_type"]),
        size=int(value["size"]),
        sha256=str(value["sha256"]),
    )


def entries_text(entries: Iterable[EvidenceEntry]) -> str:
    """One table cell: ``P01: photo.jpg (image/jpeg, 12,345 bytes, sha256 <hex>)``, joined by
    ``; `` (evidence.csv has the same, one file a row, for machines)."""
    return "; ".join(
        f"{e['item_code']}: {e['name']} ({e['content_type']}, {e['size']:,} bytes,"
        f" sha256 {e['sha256']})"
        for e in entries
    )


def package(records: Iterable[tuple[str, Sequence[EvidenceEntry]]]) -> list[PackageFile]:
    """The distinct files of (center id, its record's evidence) pairs, by SHA-256, each with
    every reference to it in center, item and name order."""
    found: dict[str, tuple[EvidenceEntry, set[Reference]]] = {}
    for center_id, entries in records:
        for e in entries:
            kept = found.setdefault(e["sha256"], (e, set()))
            kept[1].add(Reference(center_id, e["item_code"], e["name"]))
    return [
        PackageFile(
            sha256=sha,
            size=first["size"],
            content_type=first["content_type"],
            references=tuple(sorted(refs, key=lambda r: (r.center_id, r.item_code, r.name))),
        )
        for sha, (first, refs) in sorted(found.items())
    ]


def package_counts(files: Sequence[PackageFile]) -> dict[str, int]:
    return {"evidence_files": len(files), "evidence_bytes": sum(f.size for f in files)}


def manifest_body(export_id: str, round_id: str, files: Sequence[PackageFile]) -> bytes:
    """The package's manifest as sent: each file's SHA-256, size, type and references."""
    body = {
        "export_id": export_id,
        "round_id": round_id,
        "part_size": PART_SIZE,
        **package_counts(files),
        "files": [
            {
                "sha256": f.sha256,
                "size": f.size,
                "content_type": f.content_type,
                "references": [
                    {"center_id": r.center_id, "item_code": r.item_code, "name": r.name}
                    for r in f.references
                ],
            }
            for f in files
        ],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def part_count(size: int) -> int:
    """Parts of ``PART_SIZE`` bytes, the last shorter; an empty file is one empty part."""
    if size < 0:
        raise ValueError(f"size must not be negative, not {size}")
    return max(1, -(-size // PART_SIZE))


def part_range(number: int, size: int) -> tuple[int, int]:
    """Where part ``number`` (from 1) starts in the file and how many bytes it has."""
    if not 1 <= number <= part_count(size):
        raise ValueError(f"a file of {size} bytes has no part {number}")
    start = (number - 1) * PART_SIZE
    return start, min(PART_SIZE, size - start)


def missing_parts(size: int, received: Iterable[int]) -> list[int]:
    """The parts still to send, given the part numbers the receiver says it holds."""
    held = set(received)
    return [n for n in range(1, part_count(size) + 1) if n not in held]
