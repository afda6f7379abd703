"""What OPS/PMO operators type and read on their pages, without I/O: a round's window, dates
typed as a Bangkok day and time, and the checks made before asking intake (intake checks
again and has the last word)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from services.portal.domain.rounds import Window
from shared.thai import BANGKOK

ROUND_DATES = ("opens_at", "due_at", "closes_at")
ACCOUNT_KINDS = ("center", "office", "operator")
REASON_MIN, REASON_MAX = 3, 2000


@dataclass(frozen=True)
class Round:
    """A round as ``GET /v1/rounds`` gives it."""

    id: str
    period_start: date
    period_end: date
    opens_at: datetime
    due_at: datetime
    closes_at: datetime

    @classmethod
    def of(cls, found: dict[str, Any]) -> "Round":
        return cls(
            id=found["id"],
            period_start=date.fromisoformat(found["period_start"]),
            period_end=date.fromisoformat(found["period_end"]),
            opens_at=found["opens_at"],
            due_at=found["due_at"],
            closes_at=found["closes_at"],
        )

    def window(self, now: datetime) -> Window:
        """The round's own window (a center's extension keeps only that center's open)."""
        if now < self.opens_at:
            return "not_open"
        if now <= self.due_at:
            return "open"
        if now <= self.closes_at:
            return "late"
        return "closed"

    @property
    def kind(self) -> str:
        return self.id.rsplit("-", 1)[1]

    @property
    def fiscal_year(self) -> str:
        return self.id[2:6]


@dataclass(frozen=True)
class Problem:
    """A field's problem: a message key of the catalogue, and intake's own words if any."""

    field: str
    key: str
    detail: str = ""


def bangkok_day_time(day: str, clock: str) -> datetime | None:
    """``2027-03-31`` and ``16:30`` typed as Bangkok time (a missing time is midnight);
    None when either cannot be read."""
    try:
        found_day = date.fromisoformat(day.strip())
        found_time = time.fromisoformat(clock.strip()) if clock.strip() else time(0, 0)
    except ValueError:
        return None
    return datetime.combine(found_day, found_time.replace(second=0), BANGKOK)


def bangkok_day(day: str, end: bool = False) -> datetime | None:
    """The start of a Bangkok day (with ``end``: the start of the next one, so a search
    "until 5 March" includes 5 March); None when empty or unreadable."""
    try:
        found = date.fromisoformat(day.strip())
    except ValueError:
        return None
    start = datetime.combine(found, time(0, 0), BANGKOK)
    return start + timedelta(days=1) if end else start


def reason_problem(reason: str) -> Problem | None:
    size = len(reason.strip())
    if size < REASON_MIN:
        return Problem("reason", "operator.problem.reason_missing")
    if size > REASON_MAX:
        return Problem("reason", "operator.problem.reason_long")
    return None


def date_changes(
    current: Round, typed: dict[str, str]
) -> tuple[dict[str, datetime], list[Problem]]:
    """The dates that differ from the round's (from the ``<name>-day`` and ``<name>-time``
    fields) and the problems of those that cannot be read; dates must stay in order."""
    changes: dict[str, datetime] = {}
    problems: list[Problem] = []
    for name in ROUND_DATES:
        moment = bangkok_day_time(typed.get(f"{name}-day", ""), typed.get(f"{name}-time", ""))
        if moment is None:
            problems.append(Problem(name, "operator.problem.date"))
        elif moment != getattr(current, name):
            changes[name] = moment
    if not problems:
        new = {name: changes.get(name, getattr(current, name)) for name in ROUND_DATES}
        if not new["opens_at"] < new["due_at"] <= new["closes_at"]:
            problems.append(Problem("due_at", "operator.problem.order"))
        elif not changes:
            problems.append(Problem("opens_at", "operator.problem.unchanged"))
    return changes, problems


EXTENSION_AFTER_CLOSE = timedelta(days=7)


def suggested_extension_end(closes_at: datetime, now: datetime) -> datetime:
    """What the grant form offers: the round's closing time, or a week from now once that
    has passed (an extension is granted after the close as often as before it)."""
    return closes_at if closes_at > now else now + EXTENSION_AFTER_CLOSE


def intake_problems(errors: list[dict[str, Any]], fields: tuple[str, ...]) -> list[Problem]:
    """Intake's field errors (``{field, reason}``) as problems next to the page's fields;
    a field the page does not show goes to the first one."""
    found = []
    for error in errors:
        name = str(error.get("field", "")).split(".")[0]
        field = name if name in fields else fields[0]
        detail = str(error.get("message_th") or error.get("reason") or error.get("message") or "")
        found.append(Problem(field, f"operator.problem.{field}", detail))
    return found
