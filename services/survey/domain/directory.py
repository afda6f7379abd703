"""The centers citizens can answer for and the rounds a day's answers count for, as the
survey service keeps them (from the registry's and the calendar's events)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from shared.thai import BANGKOK


@dataclass(frozen=True)
class Center:
    center_id: str
    name_th: str
    name_en: str = ""
    office_path: str = ""


@dataclass(frozen=True)
class Round:
    round_id: str
    kind: str
    period_start: date
    period_end: date

    def covers(self, day: date) -> bool:
        return self.period_start <= day <= self.period_end


def bangkok_day(moment: datetime) -> date:
    return moment.astimezone(BANGKOK).date()


@dataclass(frozen=True)
class Directory:
    centers: dict[str, Center] = field(default_factory=dict)
    rounds: tuple[Round, ...] = ()
    _by_day: dict[date, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, centers: Iterable[Center], rounds: Iterable[Round]) -> "Directory":
        return cls(
            {c.center_id: c for c in centers},
            tuple(sorted(rounds, key=lambda r: (r.period_start, r.round_id))),
        )

    def rounds_on(self, day: date) -> list[str]:
        """The rounds a response given on ``day`` (a Bangkok date) counts for: every round
        whose period contains it (October-March: H1 and FY; April-September: FY)."""
        found = self._by_day.get(day)
        if found is None:
            if len(self._by_day) > 1000:
                self._by_day.clear()
            found = self._by_day[day] = [r.round_id for r in self.rounds if r.covers(day)]
        return found
