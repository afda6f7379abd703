"""The round calendar (spec §2): Thai fiscal years, 6- and 12-month rounds, their windows."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal

from shared.thai import BANGKOK, BE_OFFSET

DUE_AFTER_PERIOD = timedelta(days=30)
CLOSE_AFTER_DUE = timedelta(days=14)

RoundKind = Literal["H1", "FY"]


class Window(StrEnum):
    NOT_OPEN = "not_open"
    OPEN = "open"
    LATE = "late"
    CLOSED = "closed"


@dataclass(frozen=True)
class Round:
    id: str
    kind: RoundKind
    fiscal_year: int
    period_start: date
    period_end: date
    opens_at: datetime
    due_at: datetime
    closes_at: datetime

    def window(self, at: datetime) -> Window:
        if at < self.opens_at:
            return Window.NOT_OPEN
        if at <= self.due_at:
            return Window.OPEN
        if at <= self.closes_at:
            return Window.LATE
        return Window.CLOSED


def date_problems(
    round_: Round, opens_at: datetime, due_at: datetime, closes_at: datetime
) -> list[tuple[str, str]]:
    """What is wrong with giving ``round_`` these dates, as (field, reason) pairs."""
    problems = []
    begins = start_of_day(round_.period_start)
    if opens_at < begins:
        problems.append(("opens_at", f"before the round's period begins ({begins.isoformat()})"))
    if not opens_at < due_at:
        problems.append(("due_at", "must be after opens_at"))
    if not due_at <= closes_at:
        problems.append(("closes_at", "must not be before due_at"))
    return problems


def start_of_day(day: date) -> datetime:
    """Midnight in Bangkok of ``day``, in UTC."""
    return datetime.combine(day, time.min, BANGKOK).astimezone(UTC)


def end_of_day(day: date) -> datetime:
    """The last second of ``day`` in Bangkok, in UTC: a deadline "on" that day."""
    return start_of_day(day + timedelta(days=1)) - timedelta(seconds=1)


def fiscal_year_of(day: date) -> int:
    """Thai fiscal year (Buddhist Era) containing ``day``: FY2570 = 2026-10-01 .. 2027-09-30."""
    return day.year + BE_OFFSET + (1 if day.month >= 10 else 0)


def round_id(fiscal_year: int, kind: RoundKind) -> str:
    return f"FY{fiscal_year}-{kind}"


def default_round(fiscal_year: int, kind: RoundKind) -> Round:
    start = date(fiscal_year - BE_OFFSET - 1, 10, 1)
    end = date(fiscal_year - BE_OFFSET, 3, 31) if kind == "H1" else date(start.year + 1, 9, 30)
    due_at = end_of_day(end + DUE_AFTER_PERIOD)
    return Round(
        id=round_id(fiscal_year, kind),
        kind=kind,
        fiscal_year=fiscal_year,
        period_start=start,
        period_end=end,
        opens_at=start_of_day(end.replace(day=1)),
        due_at=due_at,
        closes_at=due_at + CLOSE_AFTER_DUE,
    )


def calendar(fiscal_year: int) -> list[Round]:
    return [default_round(fiscal_year, "H1"), default_round(fiscal_year, "FY")]
