"""Failure injection: answer a share of the POSTs (and evidence part PUTs) 503, or answer a
share of them late; or break an evidence transfer off after a number of parts.

Every POST draws two numbers from one seeded generator, whether or not they are used, so a
given ``seed`` and order of calls always injects the same failures.
"""

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

SETTINGS = ("fail_share", "slow_share", "slow_seconds", "seed", "parts_before_failure")


@dataclass
class Counters:
    """What the receiver did since it started (not kept across restarts)."""

    posts: int = 0
    failed_injected: int = 0
    slowed: int = 0
    stored: int = 0
    duplicates: int = 0
    refused_signature: int = 0
    refused_invalid: int = 0
    manifests: int = 0
    parts_stored: int = 0
    parts_repeated: int = 0
    parts_failed_injected: int = 0
    evidence_verified: int = 0
    evidence_mismatched: int = 0


@dataclass(frozen=True)
class Draw:
    """What to do with one POST: answer 503 before anything else, and/or answer late."""

    fail: bool
    slow_seconds: float

    @property
    def slow(self) -> bool:
        return self.slow_seconds > 0


@dataclass
class Injection:
    fail_share: float = 0.0
    slow_share: float = 0.0
    slow_seconds: float = 0.0
    seed: int | None = None
    parts_before_failure: int | None = None
    """Evidence parts still accepted before every further part PUT is answered 503 (a
    transfer broken off mid-way); None: no such limit."""
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        _check(self.fail_share, self.slow_share, self.slow_seconds)
        self._rng = random.Random(self.seed)

    def draw(self) -> Draw:
        """Decide for one POST (and count it)."""
        fail_roll, slow_roll = self._rng.random(), self._rng.random()
        self.counters.posts += 1
        if fail_roll < self.fail_share:
            self.counters.failed_injected += 1
            return Draw(fail=True, slow_seconds=0.0)
        if slow_roll < self.slow_share and self.slow_seconds > 0:
            self.counters.slowed += 1
            return Draw(fail=False, slow_seconds=self.slow_seconds)
        return Draw(fail=False, slow_seconds=0.0)

    def take_part(self) -> bool:
        """May one more evidence part be stored (and count it against the limit)?"""
        if self.parts_before_failure is None:
            return True
        if self.parts_before_failure <= 0:
            self.counters.parts_failed_injected += 1
            return False
        self.parts_before_failure -= 1
        return True

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply ``PUT /control``: any of ``SETTINGS``; all or nothing (``ValueError``)."""
        unknown = sorted(set(changes) - set(SETTINGS))
        if unknown:
            raise ValueError(f"unknown setting(s) {', '.join(unknown)}: expected {SETTINGS}")
        merged = {name: getattr(self, name) for name in SETTINGS}
        for name in ("fail_share", "slow_share", "slow_seconds"):
            if name in changes:
                merged[name] = _number(name, changes[name])
        if "seed" in changes:
            seed = changes["seed"]
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise ValueError(f"seed must be a whole number or null, not {seed!r}")
            merged["seed"] = seed
        if "parts_before_failure" in changes:
            limit = changes["parts_before_failure"]
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int) or limit < 0
            ):
                raise ValueError(
                    f"parts_before_failure must be a whole number >= 0 or null, not {limit!r}"
                )
            merged["parts_before_failure"] = limit
        _check(merged["fail_share"], merged["slow_share"], merged["slow_seconds"])
        self.fail_share = merged["fail_share"]
        self.slow_share = merged["slow_share"]
        self.slow_seconds = merged["slow_seconds"]
        self.parts_before_failure = merged["parts_before_failure"]
        if "seed" in changes:
            self.seed = merged["seed"]
            self._rng = random.Random(self.seed)

    def view(self) -> dict[str, Any]:
        return {
            "fail_share": self.fail_share,
            "slow_share": self.slow_share,
            "slow_seconds": self.slow_seconds,
            "seed": self.seed,
            "parts_before_failure": self.parts_before_failure,
            "counters": asdict(self.counters),
        }


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, not {value!r}")
    return float(value)


def _check(fail_share: float, slow_share: float, slow_seconds: float) -> None:
    for name, share in (("fail_share", fail_share), ("slow_share", slow_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {share}")
    if not 0.0 <= slow_seconds <= 3600:
        raise ValueError(f"slow_seconds must be between 0 and 3600, not {slow_seconds}")
