"""The portal's words in Thai and English, from the translation catalogues in
``services/portal/translations/<locale>/*.toml`` (a folder a language, one file a part of the
portal, nested tables of messages; a message named twice is an error),
and numbers and dates as each reader expects them: Buddhist-Era years in Bangkok time in
both languages, thousands separators."""

from datetime import date as DateOnly
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from shared.thai import (
    BANGKOK,
    BE_OFFSET,
    MONTHS_EN,
    MONTHS_TH,
    english_date,
    english_datetime,
    thai_date,
    thai_datetime,
)
from shared.translations import load_messages

Locale = Literal["th", "en"]
LOCALES: tuple[Locale, ...] = ("th", "en")
DEFAULT: Locale = "th"
CATALOGUES = Path(__file__).resolve().parent.parent / "translations"
NOTHING = "\u2013"  # an en dash where there is no value yet


class Catalogue:
    def __init__(self, messages: dict[Locale, dict[str, str]]) -> None:
        self.messages = messages

    @classmethod
    def load(cls, directory: Path = CATALOGUES) -> "Catalogue":
        return cls({locale: load_messages(directory / locale) for locale in LOCALES})

    def text(self, locale: Locale, key: str, **params: Any) -> str:
        """The message in ``locale`` with ``{name}`` filled in; a missing key is shown as
        itself (the tests keep the catalogues complete)."""
        message = self.messages[locale].get(key) or self.messages[DEFAULT].get(key) or key
        return message.format(**params) if params else message


def locale_of(value: str | None) -> Locale:
    return "en" if value == "en" else DEFAULT


def number(value: int | float | None, locale: Locale = DEFAULT) -> str:
    if value is None:
        return NOTHING
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{value:,}"


def percent(value: float | None, locale: Locale = DEFAULT) -> str:
    return NOTHING if value is None else f"{value:.2f} %"


def day(value: "datetime | DateOnly", locale: Locale = DEFAULT) -> str:
    """A calendar day (no time), ``1 ตุลาคม 2569`` / ``1 October 2569 B.E.``."""
    months = MONTHS_TH if locale == "th" else MONTHS_EN
    year = f"{value.year + BE_OFFSET}" if locale == "th" else f"{value.year + BE_OFFSET} B.E."
    return f"{value.day} {months[value.month - 1]} {year}"


def date(moment: datetime | None, locale: Locale = DEFAULT) -> str:
    if moment is None:
        return NOTHING
    return thai_date(moment) if locale == "th" else english_date(moment)


def date_time(moment: datetime | None, locale: Locale = DEFAULT) -> str:
    if moment is None:
        return NOTHING
    return thai_datetime(moment) if locale == "th" else english_datetime(moment)


def clock_time(moment: datetime) -> str:
    """The time of day in Bangkok, ``10:32``."""
    return f"{moment.astimezone(BANGKOK):%H:%M}"
