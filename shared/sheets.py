"""Files operators keep in a spreadsheet and give the tools as CSV (the registry, the
notifier's recipients): UTF-8 with or without BOM, a header row, every wrong cell reported
with its line as the spreadsheet numbers it (header = 1), nothing taken from a file with
any error. The format is what operators and the tools agree on, hence here."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

BOM = "\ufeff"
T = TypeVar("T")
Rows = Iterator[tuple[int, list[str]]]


@dataclass(frozen=True)
class RowError:
    """What is wrong where: ``line`` counts rows as a spreadsheet numbers them."""

    line: int
    field: str
    reason: str


class SheetError(ValueError):
    what = "file"

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__(f"{len(self.errors)} error(s) in the {self.what}")


def decode_sheet(data: bytes, error: type[SheetError]) -> str:
    """The file's text; a file saved in a Thai code page instead of UTF-8 is refused."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as wrong:
        line = data.count(b"\n", 0, wrong.start) + 1
        reason = "not UTF-8 text: save the sheet as 'CSV UTF-8 (Comma delimited)'"
        raise error([RowError(line, "file", reason)]) from None


def sheet_rows(
    text: str, columns: Sequence[str], errors: list[RowError]
) -> Iterator[tuple[int, list[str]]]:
    """Non-blank rows with their line numbers (a BOM dropped). A quoted cell may hold a line
    break, so lines are counted as rows (what a spreadsheet shows), not as line breaks. A
    CSV syntax error ends the rows and is added to ``errors``."""
    reader = csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), strict=True)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                yield line, _without_empty_tail(cells, len(columns))
    except csv.Error as error:
        errors.append(RowError(line + 1, "file", f"not readable as CSV: {error}"))


def _without_empty_tail(cells: list[str], width: int) -> list[str]:
    # Spreadsheets export empty cells of columns that were once formatted; they say nothing.
    end = len(cells)
    while end > width and not cells[end - 1].strip():
        end -= 1
    return cells[:end]


def header_errors(header: tuple[int, list[str]] | None, columns: Sequence[str]) -> list[RowError]:
    expected = ",".join(columns)
    if header is None:
        return [RowError(1, "header", f"the file is empty: its first line must be {expected}")]
    line, cells = header
    names = [name.strip() for name in cells]
    if tuple(names) == tuple(columns):
        return []
    if not set(names) & set(columns):
        return [RowError(line, "header", f"the first line must be the header {expected}")]
    problems = [f"unknown column {name!r}" for name in names if name not in columns]
    problems += [f"missing column {name!r}" for name in columns if name not in names]
    problems += [
        f"column {name!r} appears {names.count(name)} times"
        for name in columns
        if names.count(name) > 1
    ]
    problems = problems or [f"columns out of order: expected {expected}"]
    return [RowError(line, "header", problem) for problem in problems]


def read_sheet(
    text: str,
    columns: Sequence[str],
    read_rows: Callable[[Rows, list[RowError]], list[T]],
    error: type[SheetError],
) -> list[T]:
    """What ``read_rows`` makes of the rows under a correct header; raises ``error`` with
    every error found when anything is wrong."""
    errors: list[RowError] = []
    rows = sheet_rows(text, columns, errors)
    header = next(rows, None)
    if not errors:
        errors += header_errors(header, columns)
    found = [] if errors else read_rows(rows, errors)
    if errors:
        raise error(errors)
    return found


def write_sheet(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with a BOM, so that Excel opens it as UTF-8 and shows the Thai text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return BOM + out.getvalue()
