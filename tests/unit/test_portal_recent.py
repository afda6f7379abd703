"""The portal's few-seconds memory of answers (sessions, a center's rounds)."""

import time

from services.portal.adapters.recent import Recent


def test_a_value_is_kept_for_its_seconds_and_the_oldest_goes_first_when_full() -> None:
    recent: Recent[str, int] = Recent(seconds=0.2, capacity=2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert (recent.get("a"), recent.get("b")) == (1, 2)
    recent.put("a", 3)  # put again: now the newest
    recent.put("c", 4)  # full: "b", the oldest put, goes
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (3, None, 4)
    time.sleep(0.25)
    assert recent.get("a") is None and recent.get("c") is None


def test_values_are_forgotten_by_key_or_by_a_test_of_their_keys() -> None:
    recent: Recent[tuple[str, str], int] = Recent(seconds=60)
    for n, key in enumerate([("s1", "GECC-0001"), ("s1", "GECC-0002"), ("s2", "GECC-0001")]):
        recent.put(key, n)
    recent.forget(("s2", "GECC-0001"))
    recent.forget_where(lambda key: key[0] == "s1")
    assert [
        recent.get(k) for k in [("s1", "GECC-0001"), ("s1", "GECC-0002"), ("s2", "GECC-0001")]
    ] == [None] * 3
