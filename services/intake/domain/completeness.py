"""Completeness of a round per level of the office hierarchy (for parent offices and
operators): the counts of each office's own centers rolled up into every office above it,
and which lists of centers a caller asked for."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

VERDICTS = ("maintained", "at_risk", "not_maintained")
FOLLOW_UP = ("at_risk", "not_maintained")
ListName = Literal["missing", "late", "follow_up", "centers"]
LISTS: tuple[ListName, ...] = get_args(ListName)


@dataclass(frozen=True)
class CenterState:
    """One center in a round: whether it submitted, whether its first version was late, the
    latest version's verdict (None: not scored yet), where its satisfaction figures come
    from (None: nothing submitted; the responses of a citizen survey) and, for follow-up,
    its reasons."""

    center_id: str
    name_th: str
    office_path: str
    province: str
    submitted: bool
    late: bool
    verdict: str | None
    submission_id: str | None = None
    reasons: tuple["Reason", ...] = ()
    satisfaction_source: str | None = None
    survey_responses: int | None = None

    @property
    def follow_up(self) -> bool:
        return self.verdict in FOLLOW_UP


@dataclass(frozen=True)
class Reason:
    code: str
    text_th: str
    text_en: str


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
        """Count one center (the rule the database's per-office counts follow)."""
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

    def merge(self, other: "LevelCounts") -> None:
        self.expected += other.expected
        self.submitted += other.submitted
        self.on_time += other.on_time
        self.late += other.late
        self.missing += other.missing
        for verdict, n in other.verdicts.items():
            self.verdicts[verdict] += n

    def list_total(self, name: ListName) -> int:
        """How many centers of this office's subtree the list ``name`` has."""
        if name == "missing":
            return self.missing
        if name == "late":
            return self.late
        if name == "follow_up":
            return sum(self.verdicts[v] for v in FOLLOW_UP)
        return self.expected


def ancestors(office_path: str) -> list[str]:
    """``PMO/MOI/DOL`` -> ``PMO``, ``PMO/MOI``, ``PMO/MOI/DOL``."""
    parts = office_path.split("/")
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def in_scope(office_path: str, scope: str) -> bool:
    return office_path == scope or office_path.startswith(scope + "/")


def depth_of(office_path: str) -> int:
    """PMO = 0, PMO/BMA = 1."""
    return office_path.count("/")


def roll_up(
    own_counts: Iterable[LevelCounts], office: str, depth: int | None = None
) -> list[LevelCounts]:
    """The levels of ``office`` and of the offices below it down to ``depth`` levels below
    (None: all), ordered by path. ``own_counts`` has, per office path, the counts of the
    centers reporting directly through it; a center counts in every office above it."""
    deepest = None if depth is None else depth_of(office) + depth
    levels: dict[str, LevelCounts] = {}
    for own in own_counts:
        if not in_scope(own.office_path, office):
            continue
        for path in ancestors(own.office_path):
            if not in_scope(path, office):
                continue
            if deepest is not None and depth_of(path) > deepest:
                break
            levels.setdefault(path, LevelCounts(path, depth_of(path))).merge(own)
    return [levels[path] for path in sorted(levels)]


def lists_asked(text: str | None) -> tuple[ListName, ...]:
    """The lists a ``lists`` query names (``missing`` when not given, none when empty), in
    the order of :data:`LISTS`; raises ValueError naming what is not a list."""
    if text is None:
        return ("missing",)
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LISTS]
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a list; choose from {', '.join(LISTS)}")
    return tuple(name for name in LISTS if name in names)


def scorecard_reasons(scorecard: Mapping[str, Any] | None) -> tuple[Reason, ...]:
    """The reasons of a version's scorecard (as scoring sent them) for follow-up."""
    found = (scorecard or {}).get("reasons") or []
    return tuple(
        Reason(str(r.get("code", "")), str(r.get("text_th", "")), str(r.get("text_en", "")))
        for r in cast(list[Mapping[str, Any]], found)
        if isinstance(r, Mapping)
    )
