from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.clock import (
    AcceleratedClock,
    ManualClock,
    SystemClock,
    build_clock,
    real_seconds_until,
    seconds_to_wait,
)

REAL_START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
VIRTUAL_START = datetime(2027, 4, 1, 0, 0, tzinfo=UTC)
DAY_PER_MINUTE = 24 * 60


def test_system_clock_tells_utc_now() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_accelerated_clock_runs_speed_times_faster_from_its_anchor() -> None:
    real = ManualClock(REAL_START)
    clock = AcceleratedClock(DAY_PER_MINUTE, REAL_START, VIRTUAL_START, real=real)
    assert clock.now() == VIRTUAL_START
    real.advance(timedelta(minutes=1))
    assert clock.now() == VIRTUAL_START + timedelta(days=1)
    real.advance(timedelta(minutes=29, seconds=30))
    assert clock.now() == VIRTUAL_START + timedelta(days=30, hours=12)


def test_accelerated_clock_maps_virtual_moments_back_to_real_time() -> None:
    real = ManualClock(REAL_START)
    clock = AcceleratedClock(DAY_PER_MINUTE, REAL_START, VIRTUAL_START, real=real)
    due = VIRTUAL_START + timedelta(days=14)
    assert clock.to_real(due) == REAL_START + timedelta(minutes=14)
    assert clock.to_virtual(clock.to_real(due)) == due


def test_accelerated_clock_answers_utc_whatever_zone_it_was_anchored_in() -> None:
    bangkok_noon = datetime(2027, 4, 1, 12, 0, tzinfo=timezone(timedelta(hours=7)))
    clock = AcceleratedClock(2.0, REAL_START, bangkok_noon, real=ManualClock(REAL_START))
    assert clock.now() == datetime(2027, 4, 1, 5, 0, tzinfo=UTC)
    assert clock.now().utcoffset() == timedelta(0)


@pytest.mark.parametrize("speed", [0.0, -1.0])
def test_speed_must_be_positive(speed: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        AcceleratedClock(speed, REAL_START, VIRTUAL_START)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        AcceleratedClock(2.0, datetime(2026, 1, 1), VIRTUAL_START)
    with pytest.raises(ValueError, match="time zone"):
        ManualClock(datetime(2026, 1, 1))


def test_speed_one_without_a_start_is_the_real_clock() -> None:
    real = ManualClock(REAL_START)
    assert build_clock(1.0, real=real) is real
    assert isinstance(build_clock(), SystemClock)


def test_a_start_moment_anchors_virtual_time_there_even_at_speed_one() -> None:
    real = ManualClock(REAL_START)
    clock = build_clock(1.0, VIRTUAL_START, real=real)
    real.advance(timedelta(hours=2))
    assert clock.now() == VIRTUAL_START + timedelta(hours=2)


def test_fast_clock_without_a_start_begins_at_real_now() -> None:
    real = ManualClock(REAL_START)
    clock = build_clock(100.0, real=real)
    assert clock.speed == 100.0
    real.advance(timedelta(seconds=36))
    assert clock.now() == REAL_START + timedelta(hours=1)


def test_real_seconds_until_a_virtual_moment() -> None:
    now = VIRTUAL_START
    in_two_weeks = now + timedelta(days=14)
    assert real_seconds_until(in_two_weeks, now=now, speed=1.0) == 14 * 86400
    assert real_seconds_until(in_two_weeks, now=now, speed=14 * DAY_PER_MINUTE) == 60
    assert real_seconds_until(now - timedelta(seconds=1), now=now, speed=5.0) == 0
    assert real_seconds_until(in_two_weeks, now=now, speed=1.0, at_most=30) == 30


def test_seconds_to_wait_uses_the_clocks_own_speed() -> None:
    real = ManualClock(REAL_START)
    clock = build_clock(DAY_PER_MINUTE, VIRTUAL_START, real=real)
    real.advance(timedelta(seconds=30))  # half a virtual day gone
    assert seconds_to_wait(clock, VIRTUAL_START + timedelta(days=1)) == 30


def test_processes_sharing_an_epoch_agree_whenever_they_started() -> None:
    real = ManualClock(REAL_START)
    first = build_clock(DAY_PER_MINUTE, VIRTUAL_START, epoch=REAL_START, real=real)
    real.advance(timedelta(seconds=30))
    second = build_clock(DAY_PER_MINUTE, VIRTUAL_START, epoch=REAL_START, real=real)
    assert first.now() == second.now() == VIRTUAL_START + timedelta(hours=12)
