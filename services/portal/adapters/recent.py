"""Answers kept in memory for a few seconds: a person's next request (the form, the review,
sending) comes within that time and needs no query."""

import time
from collections.abc import Callable
from typing import Generic, TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


class Recent(Generic[Key, Value]):
    """Each value for ``seconds`` after it was put; at most ``capacity``, the oldest put
    forgotten first."""

    def __init__(self, seconds: float, capacity: int = 10_000) -> None:
        self._seconds = seconds
        self._capacity = capacity
        self._kept: dict[Key, tuple[Value, float]] = {}

    def get(self, key: Key) -> Value | None:
        kept = self._kept.get(key)
        if kept is None or time.monotonic() - kept[1] >= self._seconds:
            return None
        return kept[0]

    def put(self, key: Key, value: Value) -> None:
        self._kept.pop(key, None)
        if len(self._kept) >= self._capacity:
            self._kept.pop(next(iter(self._kept)))  # the oldest
        self._kept[key] = (value, time.monotonic())

    def forget(self, key: Key) -> None:
        self._kept.pop(key, None)

    def forget_where(self, matches: Callable[[Key], bool]) -> None:
        for key in [key for key in self._kept if matches(key)]:
            self._kept.pop(key, None)
