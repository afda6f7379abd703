from datetime import UTC, datetime, timedelta

import pytest

from services.intake.domain.rounds import default_round
from services.notifier.domain.schedule import (
    Moment,
    MomentKey,
    RoundSnapshot,
    Tick,
    moments,
    plan,
)

SECOND = timedelta(seconds=1)


def snapshot(fiscal_year: int = 2570, kind: str = "H1") -> RoundSnapshot:
    r = default_round(fiscal_year, "H1" if kind == "H1" else "FY")
    return RoundSnapshot(r.id, r.opens_at, r.due_at, r.closes_at)


H1 = snapshot()
DUE = H1.due_at  # 30 April 2570, 23:59:59 Bangkok
CLOSES = H1.closes_at


def keys(found: tuple[Moment, ...] | list[Moment]) -> list[MomentKey]:
    return [m.key for m in found]


def test_a_round_has_three_reminders_an_overdue_tick_and_a_close() -> None:
    assert H1.due_at == datetime(2027, 4, 30, 16, 59, 59, tzinfo=UTC)
    assert [(m.key, m.at) for m in moments(H1)] == [
        (("FY2570-H1", "deadline_near", 14), DUE - timedelta(days=14)),
        (("FY2570-H1", "deadline_near", 7), DUE - timedelta(days=7)),
        (("FY2570-H1", "deadline_near", 1), DUE - timedelta(days=1)),
        (("FY2570-H1", "overdue", 0), DUE + SECOND),
        (("FY2570-H1", "round_closed", 0), CLOSES + SECOND),
    ]


def test_before_the_first_reminder_nothing_is_due_and_it_is_next() -> None:
    result = plan([H1], DUE - timedelta(days=20))
    assert result.due == ()
    assert result.next is not None
    assert result.next.key == ("FY2570-H1", "deadline_near", 14)


def test_each_reminder_is_due_from_its_moment_on() -> None:
    at_14 = DUE - timedelta(days=14)
    assert plan([H1], at_14 - SECOND).due == ()
    result = plan([H1], at_14)
    assert keys(result.due) == [("FY2570-H1", "deadline_near", 14)]
    assert result.next is not None and result.next.days_before == 7


def test_a_moment_in_the_ledger_is_not_due_again() -> None:
    done = {("FY2570-H1", "deadline_near", 14)}
    result = plan([H1], DUE - timedelta(days=10), done=done)
    assert result.due == ()
    assert result.superseded == ()
    assert result.next is not None and result.next.key == ("FY2570-H1", "deadline_near", 7)


def test_catch_up_after_a_restart_sends_only_the_latest_missed_reminder() -> None:
    result = plan([H1], DUE - timedelta(days=3))
    assert keys(result.due) == [("FY2570-H1", "deadline_near", 7)]
    assert keys(result.superseded) == [("FY2570-H1", "deadline_near", 14)]
    assert result.next is not None and result.next.days_before == 1


def test_no_reminder_for_a_deadline_already_past() -> None:
    result = plan([H1], DUE + timedelta(days=2))
    assert keys(result.due) == [("FY2570-H1", "overdue", 0)]
    assert [m.days_before for m in result.superseded] == [14, 7, 1]


def test_the_due_second_itself_is_still_on_time() -> None:
    done = {("FY2570-H1", "deadline_near", d) for d in (14, 7, 1)}
    assert plan([H1], DUE, done=done).due == ()
    assert keys(plan([H1], DUE + SECOND, done=done).due) == [("FY2570-H1", "overdue", 0)]


def test_round_closes_after_its_last_second() -> None:
    done: set[MomentKey] = {m.key for m in moments(H1) if m.tick is not Tick.ROUND_CLOSED}
    assert plan([H1], CLOSES, done=done).due == ()
    result = plan([H1], CLOSES + SECOND, done=done)
    assert keys(result.due) == [("FY2570-H1", "round_closed", 0)]
    assert result.next is None


def test_catch_up_after_close_only_closes() -> None:
    result = plan([H1], CLOSES + timedelta(days=1), done={("FY2570-H1", "deadline_near", 14)})
    assert keys(result.due) == [("FY2570-H1", "round_closed", 0)]
    assert keys(result.superseded) == [
        ("FY2570-H1", "deadline_near", 7),
        ("FY2570-H1", "deadline_near", 1),
        ("FY2570-H1", "overdue", 0),
    ]
    assert plan([H1], CLOSES + timedelta(days=1), done=keys(result.due)).due == ()


def test_offsets_are_configurable_and_none_falls_before_the_round_opens() -> None:
    # H1 opens on 1 March (Bangkok) and is due on 30 April: 70 days before is not yet open.
    found = [m.days_before for m in moments(H1, (70, 30, 3)) if m.tick is Tick.DEADLINE_NEAR]
    assert found == [30, 3]
    assert keys(plan([H1], DUE - timedelta(days=30), (70, 30, 3)).due) == [
        ("FY2570-H1", "deadline_near", 30)
    ]


@pytest.mark.parametrize("offsets", [(7, 0), (-1,)])
def test_offsets_are_whole_days_before_the_deadline(offsets: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="offsets"):
        moments(H1, offsets)


def test_several_rounds_due_oldest_first_and_next_is_the_earliest() -> None:
    h1, fy = snapshot(2570, "H1"), snapshot(2570, "FY")
    previous = snapshot(2569, "FY")
    now = h1.due_at - timedelta(days=7)
    result = plan([fy, h1, previous], now)
    assert keys(result.due) == [
        ("FY2569-FY", "round_closed", 0),
        ("FY2570-H1", "deadline_near", 7),
    ]
    assert result.next is not None and result.next.key == ("FY2570-H1", "deadline_near", 1)
