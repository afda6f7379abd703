"""Parent offices by name: the offices file (``office_path,name_th,name_en``), as operators
keep it in a spreadsheet, gives each office path the names people know it by.

Parsing reports every wrong cell with its line and column; a file with any error yields
nothing (``shared.sheets``).
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.intake.domain.centers import office_path_problem
from shared.sheets import RowError, SheetError, decode_sheet, read_sheet, write_sheet

COLUMNS = ("office_path", "name_th", "name_en")
ROOT = "PMO"
MAX_OFFICES = 100_000
MAX_NAME = 300
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Office:
    path: str
    name_th: str
    name_en: str


class OfficesFileError(SheetError):
    what = "offices file"


def path_problem(path: str) -> str | None:
    """Why ``path`` is not the path of an office (PMO itself is one)."""
    return None if path == ROOT else office_path_problem(path)


def parent_of(path: str) -> str | None:
    """``PMO/MOI/DOL`` -> ``PMO/MOI``; None for PMO."""
    parent = path.rpartition("/")[0]
    return parent or None


def decode_offices(data: bytes) -> str:
    return decode_sheet(data, OfficesFileError)


def parse_offices(text: str) -> list[Office]:
    """The offices of a file; raises :class:`OfficesFileError` with every error found."""
    return read_sheet(text, COLUMNS, _offices, OfficesFileError)


def format_offices(offices: Iterable[Office]) -> str:
    """An offices file, with a BOM so that Excel shows the Thai names."""
    return write_sheet(COLUMNS, ((o.path, o.name_th, o.name_en) for o in offices))


def _offices(rows: Iterator[tuple[int, list[str]]], errors: list[RowError]) -> list[Office]:
    found: list[Office] = []
    first_line: dict[str, int] = {}
    for count, (line, cells) in enumerate(rows, start=1):
        if count > MAX_OFFICES:
            errors.append(RowError(line, "row", f"more than {MAX_OFFICES:,} offices in one file"))
            break
        if len(cells) != len(COLUMNS):
            reason = (
                f"the row has {len(cells)} cells, {len(COLUMNS)} expected ({','.join(COLUMNS)})"
            )
            errors.append(RowError(line, "row", reason))
            continue
        path, name_th, name_en = (cell.strip() for cell in cells)
        row_errors = [
            RowError(line, column, problem)
            for column, problem in (
                ("office_path", path_problem(path)),
                ("name_th", _name_problem(name_th)),
                ("name_en", _name_problem(name_en)),
            )
            if problem is not None
        ]
        if path in first_line:
            row_errors.append(
                RowError(line, "office_path", f"{path} is already on line {first_line[path]}")
            )
        first_line.setdefault(path, line)
        errors += row_errors
        if not row_errors:
            found.append(Office(path, name_th, name_en))
    return found


def _name_problem(name: str) -> str | None:
    if not name:
        return "missing"
    if _CONTROL.search(name):
        return "contains a control character (a line break, tab or similar)"
    if len(name) > MAX_NAME:
        return f"longer than {MAX_NAME} characters"
    return None
