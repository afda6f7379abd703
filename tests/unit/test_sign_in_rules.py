"""Signing in: the per-address budget over a sliding window, and the credentials cache that
never keeps a session past its end."""

from datetime import UTC, datetime, timedelta

from services.intake.domain.principals import Principal, PrincipalCache
from services.intake.domain.sign_in import (
    SESSION_TOKEN_PREFIX,
    new_code,
    new_session_token,
    seconds_to_wait,
)

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def minutes_ago(*minutes: float) -> list[datetime]:
    return [NOW - timedelta(minutes=m) for m in minutes]


def test_an_address_may_ask_as_often_as_allowed_within_the_window() -> None:
    assert seconds_to_wait([], NOW, 5, WINDOW) == 0
    assert seconds_to_wait(minutes_ago(1, 2, 3, 4), NOW, 5, WINDOW) == 0
    assert seconds_to_wait(minutes_ago(1, 2, 3, 4, 16, 20), NOW, 5, WINDOW) == 0


def test_a_spent_budget_waits_for_the_oldest_request_in_the_window_to_leave_it() -> None:
    assert seconds_to_wait(minutes_ago(1, 2, 3, 4, 10), NOW, 5, WINDOW) == 5 * 60
    assert seconds_to_wait(minutes_ago(1, 2, 3, 4, 10, 12), NOW, 5, WINDOW) == 5 * 60
    assert seconds_to_wait(minutes_ago(0, 0), NOW, 1, WINDOW) == 15 * 60


def test_codes_and_session_tokens_are_long_random_and_distinct() -> None:
    codes = {new_code() for _ in range(100)}
    assert len(codes) == 100 and all(len(code) >= 43 for code in codes)
    token = new_session_token()
    assert token.startswith(SESSION_TOKEN_PREFIX) and len(token) > len(SESSION_TOKEN_PREFIX) + 40


def trusted_cache(ttl: float) -> PrincipalCache:
    cache = PrincipalCache(ttl)
    cache.trust()
    return cache


def test_the_cache_keeps_an_api_token_for_its_ttl() -> None:
    cache = trusted_cache(10)
    token = Principal("operator", label="ops")
    cache.put(b"k", token, 100.0, cache.generation, NOW)
    assert cache.get(b"k", 109.9) == token
    assert cache.get(b"k", 110.0) is None


def test_the_cache_never_keeps_a_session_past_its_end() -> None:
    cache = trusted_cache(3600)
    session = Principal("center", "GECC-0001", expires_at=NOW + timedelta(seconds=5))
    cache.put(b"k", session, 100.0, cache.generation, NOW)
    assert cache.get(b"k", 104.9) == session
    assert cache.get(b"k", 105.0) is None
    ended = Principal("center", "GECC-0001", expires_at=NOW - timedelta(seconds=1))
    cache.put(b"e", ended, 100.0, cache.generation, NOW)
    assert cache.get(b"e", 100.0) is None


def test_a_session_is_named_by_its_address_in_the_audit_log_and_the_portal_as_itself() -> None:
    session = Principal("center", "GECC-0001", email="somchai@bma.go.th")
    assert session.actor == "account:somchai@bma.go.th"
    assert Principal("portal").actor == "portal"
    assert not Principal("portal").can_read("GECC-0001", "PMO/BMA")
