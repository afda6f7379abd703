"""Per-credential request budgets (a token bucket per API token)."""

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """``capacity`` requests at once, refilled at ``per_second``; time is passed in."""

    capacity: float
    per_second: float
    tokens: float = field(init=False)
    updated: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def take(self, now: float) -> float:
        """Spend one request; 0 if allowed, else the seconds until one is available."""
        if self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.per_second


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, max_tracked: int = 100_000) -> None:
        self._per_second = per_minute / 60
        self._burst = burst
        self._max_tracked = max_tracked
        self._buckets: dict[str, TokenBucket] = {}

    def retry_after(self, credential: str, now: float) -> float:
        bucket = self._buckets.get(credential)
        if bucket is None:
            if len(self._buckets) >= self._max_tracked:
                self._buckets.clear()  # bounded memory; a reset only ever lets requests through
            bucket = self._buckets[credential] = TokenBucket(self._burst, self._per_second)
        return bucket.take(now)
