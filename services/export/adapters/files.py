"""A round's files: JSON Lines, CSV that Excel opens with Thai intact, XLSX, the evidence
files one a row (``evidence.csv``), and a manifest.

Text a spreadsheet would run as a formula (a center named ``=HYPERLINK(...)``) stays text in
both tables, by the one rule of :mod:`shared.sheets`.

Each file is written beside its final name and moved there with ``os.replace``, so a reader
sees the old file or the new one, never half of one; the manifest goes last.
"""

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from services.export.domain.dataset import (
    FIELDS,
    ExportRecord,
    counts,
    utc_iso,
    verdict_counts,
)
from services.export.domain.evidence import EVIDENCE_FIELDS, entries_text
from shared.sheets import SheetWriter, xlsx_cell

JSONL, CSV, XLSX, MANIFEST = "records.jsonl", "records.csv", "records.xlsx", "manifest.json"
EVIDENCE_CSV = "evidence.csv"
WIDTHS = {"center_name_th": 45, "center_name_en": 45, "office_path": 30, "reasons": 80}
WIDTHS["evidence"] = 100
WIDTHS |= dict.fromkeys(("submission_id", "receipt_number", "received_at", "scored_at"), 30)


@dataclass(frozen=True)
class WrittenFile:
    name: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    export_id: str
    round_id: str
    created_at: datetime
    total: int
    counts: dict[str, int]
    verdicts: dict[str, int]
    files: tuple[WrittenFile, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "export_id": self.export_id,
            "round_id": self.round_id,
            "created_at": utc_iso(self.created_at),
            "total": self.total,
            "counts": self.counts,
            "verdicts": self.verdicts,
            "files": [{"name": f.name, "bytes": f.bytes, "sha256": f.sha256} for f in self.files],
        }

    def hashes(self) -> dict[str, str]:
        return {f.name: f.sha256 for f in self.files}


def write_dataset(
    directory: Path,
    round_id: str,
    export_id: str,
    records: Sequence[ExportRecord],
    created_at: datetime,
) -> Manifest:
    """Write the three record files in one pass over ``records``, ``evidence.csv``, then
    ``manifest.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    with (
        _staged(directory, JSONL) as jsonl,
        _staged(directory, CSV) as table,
        _staged(directory, XLSX) as xlsx,
    ):
        _write_records(records, jsonl, table, xlsx)
    with _staged(directory, EVIDENCE_CSV) as evidence:
        _write_evidence(records, evidence)
    by_status = counts(records)
    manifest = Manifest(
        export_id=export_id,
        round_id=round_id,
        created_at=created_at,
        total=by_status.pop("total"),
        counts=by_status,
        verdicts=verdict_counts(records),
        files=tuple(_describe(directory / name) for name in (JSONL, CSV, XLSX, EVIDENCE_CSV)),
    )
    with _staged(directory, MANIFEST) as path:
        text = json.dumps(manifest.to_json(), ensure_ascii=False, indent=2)
        path.write_text(text + "\n", encoding="utf-8")
    _sync(directory)
    return manifest


def _write_records(records: Sequence[ExportRecord], jsonl: Path, table: Path, xlsx: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("records")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(FIELDS))}{len(records) + 1}"
    for column, field in enumerate(FIELDS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS.get(field, 15)
    sheet.append([_header_cell(sheet, field) for field in FIELDS])
    try:
        _write_rows(records, jsonl, table, sheet)
    except BaseException:
        with suppress(Exception):
            book.save(xlsx)  # ends openpyxl's stream and removes its temporary sheet file
        raise
    book.save(xlsx)


def _write_rows(records: Sequence[ExportRecord], jsonl: Path, table: Path, sheet: Any) -> None:
    with (
        jsonl.open("w", encoding="utf-8", newline="\n") as lines,
        table.open("w", encoding="utf-8-sig", newline="") as text,
    ):
        rows = SheetWriter(text)
        rows.writerow(FIELDS)
        for record in records:
            value = record.to_json()
            lines.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
            cells = [_flat(k, v) for k, v in value.items()]
            rows.writerow([_csv_text(v) for v in cells])
            _append(sheet, cells)


def _write_evidence(records: Sequence[ExportRecord], path: Path) -> None:
    """One row per file a record lists (a file two centers sent is on both rows)."""
    with path.open("w", encoding="utf-8-sig", newline="") as text:
        rows = SheetWriter(text)
        rows.writerow(EVIDENCE_FIELDS)
        for record in records:
            for e in record.evidence:
                rows.writerow(
                    [
                        record.center_id,
                        e["item_code"],
                        e["name"],
                        e["content_type"],
                        e["size"],
                        e["sha256"],
                    ]
                )


def _flat(field: str, value: Any) -> Any:
    if field == "evidence":
        return entries_text(value)
    if isinstance(value, list):
        return " | ".join(f"{r['code']}: {r['text_th']}" for r in value)
    return value


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _append(sheet: Any, cells: list[Any]) -> None:
    sheet.append([xlsx_cell(sheet, v) for v in cells])


def _header_cell(sheet: Any, field: str) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, field)
    cell.font = Font(bold=True)
    return cell


@contextmanager
def _staged(directory: Path, name: str) -> Iterator[Path]:
    """A temporary path beside ``name``; moved onto it only if the block completes."""
    path = directory / f".{name}.{uuid4().hex}.part"
    try:
        yield path
        _sync(path)
        os.replace(path, directory / name)
    finally:
        path.unlink(missing_ok=True)


def _sync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _describe(path: Path) -> WrittenFile:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return WrittenFile(path.name, path.stat().st_size, digest.hexdigest())
