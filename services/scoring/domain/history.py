"""A result against the same center's result in the round before."""

import re

from shared.events import Change, PreviousResult, Verdict

RANK: dict[Verdict, int] = {"not_maintained": 0, "at_risk": 1, "maintained": 2}


def previous_round_id(round_id: str) -> str:
    """``FY2570-FY`` -> ``FY2570-H1``; ``FY2570-H1`` -> ``FY2569-FY``."""
    match = re.fullmatch(r"FY(\d{4})-(H1|FY)", round_id)
    if match is None:
        raise ValueError(f"not a round id: {round_id!r}")
    year, kind = int(match[1]), match[2]
    return f"FY{year}-H1" if kind == "FY" else f"FY{year - 1}-FY"


def compare(
    verdict: Verdict, satisfaction: float, checklist: float, previous: PreviousResult | None
) -> tuple[Change, float | None, float | None]:
    """How the verdict moved, and the change in percentage points of each score."""
    if previous is None:
        return "first_result", None, None
    moved = RANK[verdict] - RANK[previous.verdict]
    change: Change = "improved" if moved > 0 else "worsened" if moved < 0 else "unchanged"
    return (
        change,
        round(satisfaction - previous.satisfaction_percent, 2),
        round(checklist - previous.checklist_percent, 2),
    )
