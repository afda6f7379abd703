"""The round clock (spec §6 notifier): which moments of a round are due at ``now``.

Per round: ``deadline_near`` at ``due_at - N days`` for each offset N, ``overdue`` just after
``due_at`` (the notifier's own cue for overdue notices, not a Kafka event) and
``round_closed`` just after ``closes_at``. Each moment has a stable key for the ledger that
makes it happen exactly once. A moment that was missed (the service was down) is still due
on start while it makes sense; otherwise it is ``superseded`` and never fires.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DEFAULT_OFFSETS_DAYS: tuple[int, ...] = (14, 7, 1)

# Intake still accepts a report at exactly due_at (on time) and closes_at (late), so the
# round is overdue or closed only from the next second on.
AFTER = timedelta(seconds=1)

MomentKey = tuple[str, str, int]


class Tick(StrEnum):
    DEADLINE_NEAR = "deadline_near"
    OVERDUE = "overdue"
    ROUND_CLOSED = "round_closed"


@dataclass(frozen=True)
class RoundSnapshot:
    id: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime


@dataclass(frozen=True)
class Moment:
    round_id: str
    tick: Tick
    at: datetime
    days_before: int = 0
    """The offset of a ``deadline_near`` moment; 0 for the others."""

    @property
    def key(self) -> MomentKey:
        """``("FY2570-H1", "deadline_near", 7)``, ``("FY2570-H1", "round_closed", 0)``."""
        return (self.round_id, self.tick.value, self.days_before)


@dataclass(frozen=True)
class Plan:
    due: tuple[Moment, ...]
    """To act on now, oldest first."""
    superseded: tuple[Moment, ...]
    """Missed, not done and pointless now: never to fire (record them as skipped, or they
    are reported again on every call)."""
    next: Moment | None
    """The first moment after ``now``: sleep until then."""


def moments(
    round_: RoundSnapshot, offsets_days: Iterable[int] = DEFAULT_OFFSETS_DAYS
) -> list[Moment]:
    """Every moment of the round in time order. A reminder that would fall before the round
    opens is left out: centers cannot submit yet."""
    offsets = sorted(set(offsets_days), reverse=True)
    if any(days <= 0 for days in offsets):
        raise ValueError(f"deadline offsets must be whole days > 0, not {offsets}")
    near = [
        Moment(round_.id, Tick.DEADLINE_NEAR, round_.due_at - timedelta(days=days), days)
        for days in offsets
    ]
    return sorted(
        [
            *(m for m in near if m.at >= round_.opens_at),
            Moment(round_.id, Tick.OVERDUE, round_.due_at + AFTER),
            Moment(round_.id, Tick.ROUND_CLOSED, round_.closes_at + AFTER),
        ],
        key=lambda m: m.at,
    )


def plan(
    rounds: Iterable[RoundSnapshot],
    now: datetime,
    offsets_days: Iterable[int] = DEFAULT_OFFSETS_DAYS,
    done: Collection[MomentKey] = (),
) -> Plan:
    """What to do at ``now``. Of a round's passed moments only the latest is due: an earlier
    one missed while the service was down is superseded by it (no "14 days left" three days
    before the deadline, no reminder after it, no overdue notice after close)."""
    offsets = tuple(offsets_days)
    due: list[Moment] = []
    superseded: list[Moment] = []
    upcoming: list[Moment] = []
    for round_ in rounds:
        timeline = moments(round_, offsets)
        passed = [m for m in timeline if m.at <= now]
        if passed:
            superseded.extend(m for m in passed[:-1] if m.key not in done)
            if passed[-1].key not in done:
                due.append(passed[-1])
        upcoming.extend(m for m in timeline if m.at > now and m.key not in done)
    return Plan(
        due=tuple(sorted(due, key=lambda m: m.at)),
        superseded=tuple(superseded),
        next=min(upcoming, key=lambda m: m.at, default=None),
    )
