"""The accounts file: one membership per CSV row (``email,role,scope``), for the office and
operator accounts operators keep in a spreadsheet (center accounts come from the registry).

Every wrong cell is reported with its line and column; a file with any error yields nothing.
Whether a center or an office exists is the registry's to say, after parsing
(``handlers/accounts.py``).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

from services.intake.domain.accounts import ROLES, NotAScope, Role, Scope, account_email
from shared.email_addresses import NotAnEmailAddress
from shared.sheets import RowError, SheetError, decode_sheet, read_sheet

COLUMNS = ("email", "role", "scope")
MAX_ROWS = 100_000


class AccountsFileError(SheetError):
    what = "accounts file"


@dataclass(frozen=True)
class ListedMembership:
    """A row of the file: the account's address (normalized) and what it may act as."""

    line: int
    email: str
    scope: Scope


def decode_accounts(data: bytes) -> str:
    """The file's text; a file saved in a Thai code page instead of UTF-8 is refused."""
    return decode_sheet(data, AccountsFileError)


def parse_accounts(text: str) -> list[ListedMembership]:
    """The memberships of an accounts file; raises :class:`AccountsFileError` with every
    error found when any row is wrong."""
    return read_sheet(text, COLUMNS, _memberships, AccountsFileError)


def _memberships(
    rows: Iterator[tuple[int, list[str]]], errors: list[RowError]
) -> list[ListedMembership]:
    found: list[ListedMembership] = []
    first_line: dict[tuple[str, Scope], int] = {}
    for count, (line, cells) in enumerate(rows, start=1):
        if count > MAX_ROWS:
            errors.append(RowError(line, "row", f"more than {MAX_ROWS:,} rows in one file"))
            break
        row_errors: list[RowError] = []
        listed = _row(line, cells, row_errors)
        if listed is not None:
            key = (listed.email, listed.scope)
            if key in first_line:
                reason = f"{listed.email} as {listed.scope} is already on line {first_line[key]}"
                row_errors.append(RowError(line, "row", reason))
            first_line.setdefault(key, line)
        errors += row_errors
        if listed is not None and not row_errors:
            found.append(listed)
    return found


def _row(line: int, cells: list[str], errors: list[RowError]) -> ListedMembership | None:
    if len(cells) != len(COLUMNS):
        reason = f"the row has {len(cells)} cells, {len(COLUMNS)} expected ({','.join(COLUMNS)})"
        errors.append(RowError(line, "row", reason))
        return None
    email_cell, role_cell, scope_cell = (cell.strip() for cell in cells)
    try:
        email = account_email(email_cell)
    except NotAnEmailAddress as error:
        errors.append(RowError(line, "email", str(error)))
    if role_cell not in ROLES:
        reason = f"{role_cell!r} is not a role: {', '.join(ROLES)}"
        errors.append(RowError(line, "role", reason))
        return None
    try:
        scope = Scope.of(cast(Role, role_cell), scope_cell)
    except NotAScope as error:
        errors.append(RowError(line, "scope", str(error)))
        return None
    return None if errors else ListedMembership(line, email, scope)
