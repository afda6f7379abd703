import re
from dataclasses import dataclass
from datetime import date

CENTER_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{1,31}")
OFFICE_PATH = re.compile(r"PMO(/[A-Z0-9-]+)+")


@dataclass(frozen=True)
class Center:
    """A certified service center and the office path it reports through (``PMO/...``)."""

    id: str
    name_th: str
    name_en: str
    office_path: str
    province: str
    certified_until: date | None = None
    contact_emails: tuple[str, ...] = ()


def code_problem(code: str) -> str | None:
    """Why ``code`` is not a center code (None when it is one)."""
    if CENTER_CODE.fullmatch(code):
        return None
    return (
        f"{code!r} is not a center code: 2 to 32 capital letters, digits, '-' or '_', "
        "like GECC-0001"
    )


def office_path_problem(path: str) -> str | None:
    """Why ``path`` is not an office path (None when it is one)."""
    if OFFICE_PATH.fullmatch(path):
        return None
    return f"{path!r} is not an office path: like PMO/MOI/DOL (capital letters, digits and '-')"
