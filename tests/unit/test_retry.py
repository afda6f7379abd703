from datetime import UTC, datetime, timedelta

import pytest

from shared.retry import GiveUp, Retry, RetryPolicy


def seconds(delay: timedelta) -> float:
    return delay.total_seconds()


def test_delays_double_from_one_second_up_to_the_cap() -> None:
    policy = RetryPolicy(max_attempts=20, cap=timedelta(seconds=30))
    assert [seconds(policy.delay(n, random=0.0)) for n in range(1, 8)] == [
        1,
        2,
        4,
        8,
        16,
        30,
        30,
    ]


def test_jitter_only_shortens_a_delay_by_at_most_its_fraction() -> None:
    policy = RetryPolicy(jitter=0.2)
    shortest = seconds(policy.delay(3, random=0.999999))
    assert 3.2 <= shortest < 4
    assert seconds(policy.delay(3, random=0.5)) == pytest.approx(3.6)


def test_a_temporary_failure_is_retried_with_the_next_attempt_number() -> None:
    failed_at = datetime(2027, 4, 30, 10, 0, tzinfo=UTC)
    decision = RetryPolicy().after_failure(2, permanent=False, random=0.0)
    assert decision == Retry(attempt=3, delay=timedelta(seconds=2))
    assert isinstance(decision, Retry)
    assert decision.at(failed_at) == failed_at + timedelta(seconds=2)


def test_after_the_last_attempt_the_message_is_given_up() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert isinstance(policy.after_failure(2, permanent=False, random=0.3), Retry)
    decision = policy.after_failure(3, permanent=False, random=0.3)
    assert decision == GiveUp(attempts=3, reason="failed 3 times")


def test_a_permanent_failure_is_given_up_at_once() -> None:
    decision = RetryPolicy().after_failure(1, permanent=True, random=0.0)
    assert decision == GiveUp(attempts=1, reason="permanent failure")


def test_many_attempts_stay_at_the_cap() -> None:
    policy = RetryPolicy(max_attempts=10_000)
    assert policy.delay(5_000, random=0.0) == policy.cap


@pytest.mark.parametrize(
    "settings",
    [
        {"max_attempts": 0},
        {"jitter": 1.5},
        {"factor": 0.5},
        {"first": timedelta(0)},
        {"first": timedelta(minutes=10), "cap": timedelta(minutes=1)},
    ],
)
def test_nonsense_policies_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**settings)  # type: ignore[arg-type]


@pytest.mark.parametrize(("attempt", "random"), [(0, 0.0), (1, 1.0), (1, -0.1)])
def test_delay_arguments_are_checked(attempt: int, random: float) -> None:
    with pytest.raises(ValueError):
        RetryPolicy().delay(attempt, random)
