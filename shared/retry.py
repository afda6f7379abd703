"""When to try a failed delivery again, or give up and dead-letter it."""

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Retry:
    attempt: int
    """The number the next attempt will have (the first attempt is 1)."""
    delay: timedelta

    def at(self, failed_at: datetime) -> datetime:
        return failed_at + self.delay


@dataclass(frozen=True)
class GiveUp:
    attempts: int
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``first``, times ``factor`` each time, at most ``cap``, each delay
    shortened by up to ``jitter`` (a fraction) so that many failed deliveries spread out."""

    max_attempts: int = 6
    first: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    cap: timedelta = timedelta(minutes=5)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")
        if self.factor < 1 or self.first <= timedelta(0) or self.cap < self.first:
            raise ValueError("backoff must start above 0 s, grow, and cap at or above its start")

    def delay(self, failed_attempt: int, random: float) -> timedelta:
        """The wait after attempt ``failed_attempt`` failed; ``random`` is uniform in [0, 1)."""
        if not 0 <= random < 1:
            raise ValueError(f"random must be in [0, 1), not {random}")
        if failed_attempt < 1:
            raise ValueError(f"attempts count from 1, not {failed_attempt}")
        base = self.first
        for _ in range(failed_attempt - 1):
            base = min(self.cap, base * self.factor)
        return base * (1 - self.jitter * random)

    def after_failure(
        self, failed_attempt: int, *, permanent: bool, random: float
    ) -> Retry | GiveUp:
        if permanent:
            return GiveUp(failed_attempt, "permanent failure")
        if failed_attempt >= self.max_attempts:
            return GiveUp(failed_attempt, f"failed {failed_attempt} times")
        return Retry(failed_attempt + 1, self.delay(failed_attempt, random))
