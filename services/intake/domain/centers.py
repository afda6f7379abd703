from dataclasses import dataclass
from datetime import date


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
