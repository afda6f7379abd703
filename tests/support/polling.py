import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float = 30.0
) -> T:
    """Call ``probe`` until ``done(result)``; fail with the last result after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within} s; last result: {result!r}")
        await asyncio.sleep(0.2)
