from shared.rate_limit import RateLimiter, TokenBucket


def test_bucket_allows_a_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(capacity=3, per_second=1.0)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == 1.0
    assert bucket.take(100.5) == 0.5
    assert bucket.take(101.0) == 0.0


def test_each_credential_has_its_own_budget() -> None:
    limiter = RateLimiter(per_minute=60, burst=1)
    assert limiter.retry_after("a", 10.0) == 0.0
    assert limiter.retry_after("a", 10.0) > 0
    assert limiter.retry_after("b", 10.0) == 0.0


def test_a_full_limiter_forgets_the_least_recently_used_key_only() -> None:
    limiter = RateLimiter(per_minute=60, burst=1, max_tracked=2)
    assert limiter.retry_after("a", 10.0) == 0.0
    assert limiter.retry_after("b", 10.0) == 0.0
    assert limiter.retry_after("a", 10.0) > 0  # a is now the most recently used
    assert limiter.retry_after("c", 10.0) == 0.0  # b, the least recently used, goes
    assert limiter.retry_after("a", 10.0) > 0  # a's spent budget is remembered
    assert limiter.retry_after("b", 10.0) == 0.0  # b starts afresh


def test_wait_tells_without_spending() -> None:
    limiter = RateLimiter(per_minute=60, burst=1)
    assert limiter.wait("a", 10.0) == 0.0
    assert limiter.wait("a", 10.0) == 0.0
    assert limiter.retry_after("a", 10.0) == 0.0
    assert limiter.wait("a", 10.0) == 1.0
    assert limiter.wait("a", 11.0) == 0.0
