"""Completeness of a round per level of the office hierarchy (for parent offices and operators)."""

from collections.abc import Iterable
from dataclasses import dataclass, field

VERDICTS = ("maintained", "at_risk", "not_maintained")


@dataclass(frozen=True)
class CenterState:
    center_id: str
    name_th: str
    office_path: str
    province: str
    submitted: bool
    late: bool
    verdict: str | None


@dataclass
class LevelCounts:
    office_path: str
    depth: int
    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    late: int = 0
    missing: int = 0
    verdicts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys((*VERDICTS, "pending"), 0)
    )

    def add(self, center: CenterState) -> None:
        self.expected += 1
        if not center.submitted:
            self.missing += 1
            return
        self.submitted += 1
        if center.late:
            self.late += 1
        else:
            self.on_time += 1
        self.verdicts[center.verdict or "pending"] += 1


@dataclass(frozen=True)
class CompletenessReport:
    scope: str
    levels: list[LevelCounts]
    missing: list[CenterState]


def ancestors(office_path: str) -> list[str]:
    """``PMO/MOI/DOL`` -> ``PMO``, ``PMO/MOI``, ``PMO/MOI/DOL``."""
    parts = office_path.split("/")
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def in_scope(office_path: str, scope: str) -> bool:
    return office_path == scope or office_path.startswith(scope + "/")


def completeness(centers: Iterable[CenterState], scope: str = "PMO") -> CompletenessReport:
    """Counts for ``scope`` and every office below it; a center counts in all its ancestors."""
    levels: dict[str, LevelCounts] = {}
    missing: list[CenterState] = []
    for center in centers:
        if not in_scope(center.office_path, scope):
            continue
        for path in ancestors(center.office_path):
            if in_scope(path, scope):
                level = levels.setdefault(path, LevelCounts(path, path.count("/")))
                level.add(center)
        if not center.submitted:
            missing.append(center)
    return CompletenessReport(
        scope=scope,
        levels=[levels[path] for path in sorted(levels)],
        missing=sorted(missing, key=lambda c: (c.office_path, c.center_id)),
    )
