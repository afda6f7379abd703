"""Each of ``write_dataset``'s formats written alone, to see what each costs.

``write_dataset`` writes JSON Lines, CSV and XLSX in one pass (one ``to_json`` per record for
all three), so its parts cannot be timed from outside. These writers repeat, one format at a
time, the calls of ``services.export.adapters.files`` (its own helpers for the cells), each
with its own ``to_json`` per record; ``to_json`` alone is timed too, so each format's own
cost is its time minus that. Files are fsynced like the real ones.
"""

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from services.export.adapters import files
from services.export.domain.dataset import FIELDS, ExportRecord
from shared.sheets import SheetWriter


def _to_json(records: Sequence[ExportRecord], directory: Path) -> None:
    for record in records:
        record.to_json()


def _jsonl(records: Sequence[ExportRecord], directory: Path) -> None:
    path = directory / files.JSONL
    with path.open("w", encoding="utf-8", newline="\n") as lines:
        for record in records:
            value = record.to_json()
            lines.write(json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n")
        _sync(lines)


def _csv(records: Sequence[ExportRecord], directory: Path) -> None:
    path = directory / files.CSV
    with path.open("w", encoding="utf-8-sig", newline="") as text:
        rows = SheetWriter(text)
        rows.writerow(FIELDS)
        for record in records:
            rows.writerow([files._csv_text(files._flat(k, v)) for k, v in record.to_json().items()])
        _sync(text)


def _xlsx(records: Sequence[ExportRecord], directory: Path) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("records")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(FIELDS))}{len(records) + 1}"
    for column, name in enumerate(FIELDS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = files.WIDTHS.get(name, 15)
    sheet.append([files._header_cell(sheet, name) for name in FIELDS])
    for record in records:
        files._append(sheet, [files._flat(k, v) for k, v in record.to_json().items()])
    path = directory / files.XLSX
    book.save(path)
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _sync(stream: IO[str]) -> None:
    stream.flush()
    os.fsync(stream.fileno())


FORMATS: dict[str, Callable[[Sequence[ExportRecord], Path], None]] = {
    "to_json": _to_json,
    "jsonl": _jsonl,
    "csv": _csv,
    "xlsx": _xlsx,
}


def write_alone(name: str, records: Sequence[ExportRecord], directory: Path) -> None:
    FORMATS[name](records, directory)
