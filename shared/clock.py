"""The services' sense of time: real, or accelerated for demos and tests (``GECC_CLOCK_SPEED``).

All clocks answer UTC-aware datetimes. An accelerated clock maps real time onto a virtual
timeline that runs ``speed`` times faster from an anchor, so a whole round (weeks) passes in
minutes while every decision is still taken against ``now()``.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    @property
    def speed(self) -> float:
        """Virtual seconds per real second (1 for the real clock)."""
        ...

    def now(self) -> datetime: ...


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone: clocks work in UTC")
    return moment.astimezone(UTC)


class SystemClock:
    speed = 1.0

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass(frozen=True)
class AcceleratedClock:
    """Virtual time = ``epoch_virtual + (real now - epoch_real) * speed``."""

    speed: float
    epoch_real: datetime
    epoch_virtual: datetime
    real: Clock = field(default_factory=SystemClock)

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError(f"clock speed must be positive, not {self.speed}")
        object.__setattr__(self, "epoch_real", _aware(self.epoch_real))
        object.__setattr__(self, "epoch_virtual", _aware(self.epoch_virtual))

    def now(self) -> datetime:
        return self.to_virtual(self.real.now())

    def to_virtual(self, real: datetime) -> datetime:
        return self.epoch_virtual + (_aware(real) - self.epoch_real) * self.speed

    def to_real(self, virtual: datetime) -> datetime:
        return self.epoch_real + (_aware(virtual) - self.epoch_virtual) / self.speed


@dataclass
class ManualClock:
    """A clock that moves only when told to: for tests and for stepping a demo by hand."""

    at: datetime
    speed: float = 1.0

    def __post_init__(self) -> None:
        self.at = _aware(self.at)

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> datetime:
        self.at += delta
        return self.at

    def set(self, at: datetime) -> None:
        self.at = _aware(at)


def build_clock(
    speed: float = 1.0,
    start_at: datetime | None = None,
    *,
    epoch: datetime | None = None,
    real: Clock | None = None,
) -> Clock:
    """The clock the settings ask for: the system clock at speed 1 without a start moment,
    otherwise an accelerated clock whose virtual time is ``start_at`` (default: the epoch)
    at the real moment ``epoch`` (default: now). Processes given the same epoch, start and
    speed agree on the time, whenever each of them started."""
    source = real or SystemClock()
    if speed == 1 and start_at is None:
        return source
    anchor = source.now() if epoch is None else epoch
    return AcceleratedClock(
        speed=speed,
        epoch_real=anchor,
        epoch_virtual=anchor if start_at is None else start_at,
        real=source,
    )


def real_seconds_until(
    moment: datetime, *, now: datetime, speed: float, at_most: float | None = None
) -> float:
    """Real seconds to sleep until virtual ``moment``: 0 when it has passed, never more than
    ``at_most`` (so a sleeper wakes to see changed round dates)."""
    if not speed > 0:
        raise ValueError(f"clock speed must be positive, not {speed}")
    seconds = max(0.0, (_aware(moment) - _aware(now)).total_seconds() / speed)
    return seconds if at_most is None else min(seconds, at_most)


def seconds_to_wait(clock: Clock, moment: datetime, at_most: float | None = None) -> float:
    return real_seconds_until(moment, now=clock.now(), speed=clock.speed, at_most=at_most)
