"""The recipients file: who else hears from the notifier, one address per CSV row.

Besides each center's own contacts (from the registry), the notifier writes to parent
offices (``office:PMO/...``), to the OPS/PMO operators (``operators``), and to the systems
of centers or offices that asked for signed webhooks (``center:CODE``). Operators keep
this list in a spreadsheet; parsing reports every wrong cell with its line, so a file is
fixed in one pass, and a file with any error yields no recipients at all.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Literal, cast
from urllib.parse import urlsplit

from shared.email_addresses import NotAnEmailAddress, normalized_email
from shared.sheets import RowError, SheetError, decode_sheet, read_sheet, write_sheet

COLUMNS = ("owner", "channel", "address", "secret")
CHANNELS = ("email", "webhook")
OPERATORS = "operators"
MAX_RECIPIENTS = 100_000
MIN_SECRET_CHARS = 16
# Demo recipients: one mailbox per parent office, and the operators' desk.
OFFICE_MAIL_DOMAIN = "gecc.example.go.th"
OPERATORS_EMAIL = "gecc-operators@opdc.example.go.th"

Channel = Literal["email", "webhook"]

_OFFICE_PATH = re.compile(r"PMO(/[A-Z0-9-]+)+")
_CENTER_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,31}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1"})
OWNER_HINT = "'operators', 'office:PMO/...' (like office:PMO/MOI/DOL) or 'center:CODE'"


@dataclass(frozen=True)
class Recipient:
    """One row of the ``recipients`` table; ``secret`` signs webhooks, ``None`` for e-mail."""

    owner: str
    channel: Channel
    address: str
    secret: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The table's primary key."""
        return (self.owner, self.channel, self.address)


class RecipientsFileError(SheetError):
    what = "recipients file"


def decode_recipients(data: bytes) -> str:
    """The file's text; a file saved in a Thai code page instead of UTF-8 is refused."""
    return decode_sheet(data, RecipientsFileError)


def parse_recipients(text: str) -> list[Recipient]:
    """The recipients of a file (UTF-8, with or without BOM); raises
    :class:`RecipientsFileError` with every error found when any row is wrong."""
    return read_sheet(text, COLUMNS, _recipients, RecipientsFileError)


def format_recipients(recipients: Iterable[Recipient]) -> str:
    """A recipients file, with a BOM so that Excel opens it as UTF-8."""
    return write_sheet(
        COLUMNS, ((r.owner, r.channel, r.address, r.secret or "") for r in recipients)
    )


def office_owner(office_path: str) -> str:
    return f"office:{office_path}"


def office_mailbox(office_path: str, domain: str = OFFICE_MAIL_DOMAIN) -> str:
    """The demo's mailbox of a parent office: ``PMO/MOI/DOL`` -> ``saraban.moi.dol@<domain>``.

    Office path segments hold no dot, so two offices never share a mailbox. A path too long
    for a mailbox (64 characters before the ``@``) raises ``ValueError``.
    """
    if not _OFFICE_PATH.fullmatch(office_path):
        raise ValueError(f"{office_path!r} is not an office path like PMO/MOI/DOL")
    slug = ".".join(segment.lower() for segment in office_path.split("/")[1:])
    try:
        return normalized_email(f"saraban.{slug}@{domain}")
    except NotAnEmailAddress as error:
        raise ValueError(f"office {office_path} has no demo mailbox: {error}") from None


def demo_recipients(office_paths: Iterable[str]) -> list[Recipient]:
    """One e-mail recipient per distinct office (sorted), then the operators' desk."""
    offices = [
        Recipient(office_owner(path), "email", office_mailbox(path))
        for path in sorted(set(office_paths))
    ]
    return [*offices, Recipient(OPERATORS, "email", OPERATORS_EMAIL)]


def _recipients(rows: Iterator[tuple[int, list[str]]], errors: list[RowError]) -> list[Recipient]:
    recipients: list[Recipient] = []
    first_line: dict[tuple[str, str, str], int] = {}
    for count, (line, cells) in enumerate(rows, start=1):
        if count > MAX_RECIPIENTS:
            reason = f"more than {MAX_RECIPIENTS:,} recipients in one file"
            errors.append(RowError(line, "row", reason))
            break
        row_errors = _row_errors(line, cells)
        if not row_errors:
            recipient = _recipient(cells)
            # E-mail addresses differ in case only when typed twice: one mailbox, one row.
            seen = _identity(recipient)
            if seen in first_line:
                reason = f"{recipient.address} for {recipient.owner} is already on line "
                row_errors.append(RowError(line, "address", reason + str(first_line[seen])))
            else:
                first_line[seen] = line
                recipients.append(recipient)
        errors += row_errors
    return recipients


def _identity(recipient: Recipient) -> tuple[str, str, str]:
    address = recipient.address.casefold() if recipient.channel == "email" else recipient.address
    return (recipient.owner, recipient.channel, address)


def _row_errors(line: int, cells: list[str]) -> list[RowError]:
    # A row may leave out an empty secret at its end: an e-mail row is then 3 cells.
    if len(cells) < len(COLUMNS) - 1:
        reason = f"missing: the row has {len(cells)} cells, {len(COLUMNS)} expected"
        return [RowError(line, COLUMNS[len(cells)], reason)]
    if len(cells) > len(COLUMNS):
        reason = (
            f"{len(cells) - len(COLUMNS)} cell(s) after {COLUMNS[-1]}: "
            "a cell holding a comma must be quoted"
        )
        return [RowError(line, "row", reason)]
    owner, channel, address, secret = _values(cells)
    problems = {
        "owner": _owner_problem(owner),
        "channel": _channel_problem(channel),
        "address": _address_problem(channel, address),
        "secret": _secret_problem(channel, secret),
    }
    for field, value in zip(COLUMNS, (owner, channel, address, secret), strict=True):
        # PostgreSQL refuses NUL in text, and a line break inside an address is always a slip.
        if _CONTROL.search(value):
            problems[field] = "contains a control character (a line break, tab or similar)"
    return [RowError(line, field, problem) for field, problem in problems.items() if problem]


def _values(cells: list[str]) -> tuple[str, str, str, str]:
    owner, channel, address, secret = (cell.strip() for cell in [*cells, ""][: len(COLUMNS)])
    return owner, channel, address, secret


def _owner_problem(owner: str) -> str | None:
    if owner == OPERATORS:
        return None
    kind, _, subject = owner.partition(":")
    if kind == "office" and _OFFICE_PATH.fullmatch(subject):
        return None
    if kind == "office":
        return (
            f"{subject!r} is not an office path: like PMO/MOI/DOL (capital letters, digits and '-')"
        )
    if kind == "center" and _CENTER_CODE.fullmatch(subject):
        return None
    if kind == "center":
        return (
            f"{subject!r} is not a center code: 2 to 32 capital letters, digits, '-' or '_', "
            "like GECC-0001"
        )
    if not owner:
        return f"missing: {OWNER_HINT}"
    return f"{owner!r} is not an owner: {OWNER_HINT}"


def _channel_problem(channel: str) -> str | None:
    if channel in CHANNELS:
        return None
    if not channel:
        return "missing: email or webhook"
    return f"{channel!r} is not a channel: email or webhook (in lower case)"


def _address_problem(channel: str, address: str) -> str | None:
    if not address:
        return "missing"
    return _ADDRESS_CHECKS[channel](address) if channel in _ADDRESS_CHECKS else None


def _email_problem(address: str) -> str | None:
    try:
        normalized_email(address)
    except NotAnEmailAddress as error:
        hint = " (one address per row)" if any(mark in address for mark in ",; ") else ""
        return f"{error}{hint}"
    return None


def _webhook_problem(address: str) -> str | None:
    wrong = f"{address!r} is not a webhook URL"
    if any(char.isspace() for char in address):
        return f"{wrong}: it contains a space"
    try:
        url = urlsplit(address)
        host = url.hostname
        _ = url.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return f"{wrong}: like https://example.go.th/gecc/hook"
    if url.scheme not in ("https", "http") or not host:
        return f"{wrong}: like https://example.go.th/gecc/hook"
    if url.username is not None or url.password is not None:
        return f"{wrong}: it must not carry a user name or password (the secret signs it)"
    if url.scheme == "http" and not _is_loopback(host):
        return f"{wrong}: it must use https:// (http:// only to 127.0.0.1 or localhost)"
    return None


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


_ADDRESS_CHECKS: dict[str, Callable[[str], str | None]] = {
    "email": _email_problem,
    "webhook": _webhook_problem,
}


def _secret_problem(channel: str, secret: str) -> str | None:
    if channel == "email" and secret:
        return "an e-mail recipient has no secret: leave the cell empty"
    if channel == "webhook" and not secret:
        return "missing: a webhook needs the secret its receiver checks signatures with"
    if channel == "webhook" and len(secret) < MIN_SECRET_CHARS:
        return f"too short: at least {MIN_SECRET_CHARS} characters"
    return None


def _recipient(cells: list[str]) -> Recipient:
    owner, channel, address, secret = _values(cells)
    if channel == "email":
        address = normalized_email(address)
    return Recipient(owner, cast(Channel, channel), address, secret or None)
