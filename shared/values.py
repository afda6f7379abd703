"""Values people and systems send that the services store: refused at validation, with the
field named, when PostgreSQL could not hold them, rather than failing in the database.

- ``StoredText``: text without NUL (PostgreSQL's text and jsonb cannot store U+0000; other
  characters it cannot store, lone surrogates, never get past the JSON parser).
- ``Moment``: a time with its offset, within years 2000..2200 once in UTC (a date such as
  ``0001-01-01T00:00:00+14:00`` lies before year 1 in UTC, which no database holds).
"""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST_YEAR = 2000
LATEST_YEAR = 2200


def storable_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character (U+0000), which cannot be stored")
    return value


def bounded_moment(value: datetime) -> datetime:
    try:
        year = value.astimezone(UTC).year
    except OverflowError:
        year = 0
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        raise ValueError(f"must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR} (UTC)")
    return value


StoredText = Annotated[str, AfterValidator(storable_text)]
Moment = Annotated[AwareDatetime, AfterValidator(bounded_moment)]
