"""The registry file: one certified center per CSV row, as operators keep it in a spreadsheet.

Parsing reports every wrong cell with its line and column, so a file is fixed in one pass;
a file with any error yields no centers at all.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import date

from services.intake.domain.centers import Center, code_problem, office_path_problem
from services.intake.domain.rounds import BE_OFFSET
from shared.email_addresses import NotAnEmailAddress, normalized_email
from shared.sheets import RowError, SheetError, decode_sheet, read_sheet, write_sheet

COLUMNS = (
    "code",
    "name_th",
    "name_en",
    "office_path",
    "province",
    "contact_emails",
    "certified_until",
)
MAX_CENTERS = 200_000
EMAIL_SEPARATOR = ";"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A year this far ahead is a Buddhist Era year typed into a Common Era column (2570 for 2027).
_FIRST_BE_YEAR = 2400


class RegistryFileError(SheetError):
    what = "registry file"


def decode_registry(data: bytes) -> str:
    """The file's text; a file saved in a Thai code page instead of UTF-8 is refused."""
    return decode_sheet(data, RegistryFileError)


def parse_registry(text: str) -> list[Center]:
    """The centers of a registry file (UTF-8, with or without BOM); raises
    :class:`RegistryFileError` with every error found when any row is wrong."""
    return read_sheet(text, COLUMNS, _centers, RegistryFileError)


def format_registry(centers: Iterable[Center]) -> str:
    """A registry file of ``centers``, with a BOM so that Excel shows the Thai names."""
    return write_sheet(COLUMNS, (_cells(center) for center in centers))


def _centers(rows: Iterator[tuple[int, list[str]]], errors: list[RowError]) -> list[Center]:
    centers: list[Center] = []
    first_line: dict[str, int] = {}
    for count, (line, cells) in enumerate(rows, start=1):
        if count > MAX_CENTERS:
            errors.append(RowError(line, "row", f"more than {MAX_CENTERS:,} centers in one file"))
            break
        code = cells[0].strip()
        row_errors = _row_errors(line, cells)
        if code and code in first_line:
            duplicate = RowError(line, "code", f"{code} is already on line {first_line[code]}")
            row_errors.insert(0, duplicate)
        first_line.setdefault(code, line)
        errors += row_errors
        if not row_errors:
            centers.append(_center(cells))
    return centers


def _row_errors(line: int, cells: list[str]) -> list[RowError]:
    if len(cells) < len(COLUMNS):
        reason = f"missing: the row has {len(cells)} cells, {len(COLUMNS)} expected"
        return [RowError(line, COLUMNS[len(cells)], reason)]
    if len(cells) > len(COLUMNS):
        reason = (
            f"{len(cells) - len(COLUMNS)} cell(s) after {COLUMNS[-1]}: "
            "a cell holding a comma must be quoted"
        )
        return [RowError(line, "row", reason)]
    values = dict(zip(COLUMNS, (cell.strip() for cell in cells), strict=True))
    return [
        RowError(line, field, problem)
        for field in COLUMNS
        if (problem := _cell_problem(field, values[field])) is not None
    ]


def _cell_problem(field: str, value: str) -> str | None:
    # PostgreSQL refuses NUL in text, and a line break inside a name is always a slip.
    if _CONTROL.search(value):
        return "contains a control character (a line break, tab or similar)"
    check = _CHECKS.get(field)
    return None if check is None else check(value)


def _required(value: str) -> str | None:
    return None if value else "missing"


def _emails_problem(cell: str) -> str | None:
    wrong = [problem for address in _emails(cell) if (problem := _email_problem(address))]
    if not wrong:
        return None
    hint = f" (separate addresses with '{EMAIL_SEPARATOR}')" if "," in cell else ""
    return "; ".join(wrong) + hint


def _email_problem(address: str) -> str | None:
    try:
        normalized_email(address)
    except NotAnEmailAddress as error:
        return str(error)
    return None


def _date_problem(value: str) -> str | None:
    if not value:
        return None
    try:
        day = _date(value)
    except ValueError:
        return f"{value!r} is not a date: write it as YYYY-MM-DD, like 2027-09-30"
    if day is not None and day.year >= _FIRST_BE_YEAR:
        return (
            f"{value!r} has a Buddhist Era year: write the Common Era year {day.year - BE_OFFSET}"
        )
    return None


_CHECKS: dict[str, Callable[[str], str | None]] = {
    "code": code_problem,
    "name_th": _required,
    "office_path": office_path_problem,
    "province": _required,
    "contact_emails": _emails_problem,
    "certified_until": _date_problem,
}


def _emails(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in cell.split(EMAIL_SEPARATOR) if part.strip())


def _normalized_emails(cell: str) -> tuple[str, ...]:
    return tuple(normalized_email(address) for address in _emails(cell))


def _date(value: str) -> date | None:
    if not value:
        return None
    if not _ISO_DATE.fullmatch(value):
        raise ValueError(value)
    return date.fromisoformat(value)


def _center(cells: list[str]) -> Center:
    code, name_th, name_en, office_path, province, emails, certified_until = (
        cell.strip() for cell in cells
    )
    return Center(
        id=code,
        name_th=name_th,
        name_en=name_en,
        office_path=office_path,
        province=province,
        certified_until=_date(certified_until),
        contact_emails=_normalized_emails(emails),
    )


def _cells(center: Center) -> tuple[str, ...]:
    return (
        center.id,
        center.name_th,
        center.name_en,
        center.office_path,
        center.province,
        EMAIL_SEPARATOR.join(center.contact_emails),
        center.certified_until.isoformat() if center.certified_until else "",
    )
