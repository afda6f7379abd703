"""Files operators keep in a spreadsheet and give the tools as CSV (the registry, the
notifier's recipients): UTF-8 with or without BOM, a header row, every wrong cell reported
with its line as the spreadsheet numbers it (header = 1), nothing taken from a file with
any error. The format is what operators and the tools agree on, hence here.

Every CSV the system writes for people goes through :class:`SheetWriter`, and the XLSX export
asks :func:`formula_like`: text that a spreadsheet would run as a formula (a center named
``=HYPERLINK(...)``) is written so that it stays text (OWASP, "CSV Injection")."""

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

BOM = "\ufeff"
T = TypeVar("T")
Rows = Iterator[tuple[int, list[str]]]

# OWASP's list: a spreadsheet takes a cell starting with one of these for a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")


def formula_like(value: object) -> bool:
    """Whether a spreadsheet would take ``value`` for a formula: text starting with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return, unless it is a plain number such as -2.5."""
    return (
        isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value)
    )


def text_cell(value: T) -> T | str:
    """``value`` as a CSV cell people open in a spreadsheet: formula-like text gets a leading
    ``'``, as OWASP advises, so Excel shows it and never runs it; numbers stay numbers. Text
    that already starts with quotes before a formula character gets one more, so that
    :func:`sheet_rows` reads back exactly the text that was written."""
    if isinstance(value, str) and formula_like(value.lstrip("'")):
        return "'" + value
    return value


def _written_text(cell: str) -> str:
    """The text :func:`text_cell` was given for ``cell``."""
    return cell[1:] if cell.startswith("'") and formula_like(cell.lstrip("'")) else cell


class SheetWriter:
    """``csv.writer`` for files people open in a spreadsheet: each cell through
    :func:`text_cell`, rows ending in CRLF as Excel writes them. The caller adds the BOM."""

    def __init__(self, stream: TextIO) -> None:
        self._rows = csv.writer(stream, lineterminator="\r\n")

    def writerow(self, cells: Iterable[object]) -> None:
        self._rows.writerow([text_cell(cell) for cell in cells])


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
    """Non-blank rows with their line numbers (a BOM dropped, cells as :class:`SheetWriter`
    was given them). A quoted cell may hold a line break, so lines are counted as rows (what
    a spreadsheet shows), not as line breaks. A CSV syntax error ends the rows and is added
    to ``errors``."""
    reader = csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), strict=True)
    line = 0
    try:
        for line, cells in enumerate(reader, start=1):
            if any(cell.strip() for cell in cells):
                texts = [_written_text(cell) for cell in cells]
                yield line, _without_empty_tail(texts, len(columns))
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


def write_sheet(columns: Sequence[str], rows: Iterable[Iterable[object]]) -> str:
    """CSV with a BOM, so that Excel opens it as UTF-8 and shows the Thai text; formula-like
    text is kept text (:func:`text_cell`)."""
    out = io.StringIO()
    writer = SheetWriter(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(row)
    return BOM + out.getvalue()


def xlsx_cell(sheet: Any, value: object) -> object:
    """``value`` as a cell of a write-only openpyxl sheet: openpyxl takes text starting with
    ``=`` for a formula and refuses control characters, so such text becomes a text cell
    (control characters dropped), formula-like text with Excel's quote prefix (what typing a
    leading ``'`` gives), so that editing the cell keeps it text. Anything else as it is."""
    if not isinstance(value, str) or not (
        formula_like(value) or ILLEGAL_CHARACTERS_RE.search(value)
    ):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    if formula_like(text):
        cell.quotePrefix = True
    return cell


def write_xlsx(columns: Sequence[str], rows: Iterable[Iterable[object]], title: str) -> bytes:
    """The rows :func:`write_sheet` writes, as an XLSX workbook of one sheet named ``title``:
    a bold header row, frozen, with a filter."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.freeze_panes = "A2"
    header = []
    for name in columns:
        cell = WriteOnlyCell(sheet, name)
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    for row in rows:
        sheet.append([xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
