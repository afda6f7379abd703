"""Request budgets: a token bucket per key (an API token, or a client address for refused
credentials), the least recently used forgotten first when too many are tracked."""

from collections import OrderedDict
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

    def wait(self, now: float) -> float:
        """0 if a request is allowed now, else the seconds until one is; spends nothing."""
        if self.updated:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.per_second)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.per_second

    def take(self, now: float) -> float:
        """Spend one request; 0 if allowed, else the seconds until one is available."""
        wait = self.wait(now)
        if wait == 0.0:
            self.tokens -= 1
        return wait


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, max_tracked: int = 100_000) -> None:
        self._per_second = per_minute / 60
        self._burst = burst
        self._max_tracked = max_tracked
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def retry_after(self, key: str, now: float) -> float:
        """Spend one request of ``key``'s budget; 0 if allowed, else seconds to wait."""
        return self._bucket(key).take(now)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may spend a request (0: now), spending nothing."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.wait(now)

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        if len(self._buckets) >= self._max_tracked:
            self._buckets.popitem(last=False)
        bucket = self._buckets[key] = TokenBucket(self._burst, self._per_second)
        return bucket
