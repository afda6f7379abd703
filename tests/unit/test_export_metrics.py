"""Where a build's or a delivery's time went: each part's seconds, added up over its calls."""

import time

from services.export.metrics import Timings


def test_timings_add_up_each_part_over_its_calls() -> None:
    timings = Timings()
    for _ in range(2):
        with timings.part("post"):
            time.sleep(0.01)
    with timings.part("manifest"):
        pass
    assert list(timings.seconds) == ["post", "manifest"]
    assert 0.02 <= timings.seconds["post"] < 1
    assert 0 <= timings.seconds["manifest"] < timings.seconds["post"]
    assert str(timings).startswith("post 0.0")


def test_a_part_that_raises_is_timed_too() -> None:
    timings = Timings()
    try:
        with timings.part("post"):
            raise TimeoutError
    except TimeoutError:
        pass
    assert set(timings.seconds) == {"post"}
