"""A parent office's view of a round (pure): which round to open, the way down from the
session's scope to an office, and the pages of a list of centers."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

LISTS = ("missing", "late", "follow_up", "centers")
DOWNLOADS = ("levels", *LISTS)
FORMATS = ("csv", "xlsx")
PAGE_SIZE = 100


def current_round(rounds: list[dict[str, Any]], now: datetime) -> str | None:
    """The newest round open at ``now`` (opened, not closed), else the newest by opening."""
    if not rounds:
        return None
    newest_first = sorted(rounds, key=lambda r: (r["opens_at"], r["id"]), reverse=True)
    for entry in newest_first:
        if entry["opens_at"] <= now < entry["closes_at"]:
            return str(entry["id"])
    return str(newest_first[0]["id"])


def within(scope: str, path: str) -> bool:
    return path == scope or path.startswith(f"{scope}/")


def trail(scope: str, path: str) -> list[str]:
    """The offices from ``scope`` down to ``path`` (both included); never above the scope."""
    if not within(scope, path):
        return []
    below = path[len(scope) :].strip("/")
    steps = [scope]
    for part in below.split("/") if below else []:
        steps.append(f"{steps[-1]}/{part}")
    return steps


@dataclass(frozen=True)
class Paging:
    page: int
    total: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first(self) -> int:
        """The position of the page's first row (1-based; 0 when there is none)."""
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)


def submitted_share(level: dict[str, Any]) -> float | None:
    """Submitted of expected, in percent (None when nothing is expected)."""
    expected = int(level["expected"])
    return None if expected == 0 else 100.0 * int(level["submitted"]) / expected


def list_totals(level: dict[str, Any]) -> dict[str, int]:
    """How many centers each list of an office holds, from its level's counts (so a page
    asks intake for the one list it shows)."""
    verdicts = level["verdicts"]
    return {
        "missing": int(level["missing"]),
        "late": int(level["late"]),
        "follow_up": int(verdicts["at_risk"]) + int(verdicts["not_maintained"]),
        "centers": int(level["expected"]),
    }
