"""The citizen survey as intake knows it (spec §11): the latest tally it saw of a center's
survey in a round, and whether a report may take its figures from it."""

from dataclasses import dataclass
from datetime import datetime

from shared.submission import SatisfactionSource

RESPONSES_FIELD = "satisfaction.source.responses"


@dataclass(frozen=True)
class SeenTally:
    """A center's citizen survey in a round as of the highest tally revision intake saw."""

    center_id: str
    round_id: str
    responses: int
    revision: int
    tallied_at: datetime


def claim_problem(source: SatisfactionSource, seen: SeenTally | None, round_id: str) -> str | None:
    """Why a report may not say its figures come from the citizen survey (None: it may, or
    they are the center's own). It may not claim more responses than the latest tally seen."""
    if source.kind != "citizen_survey" or source.responses is None:
        return None
    if seen is None:
        return f"no tally of this center's citizen survey in round {round_id} has been seen"
    if source.responses > seen.responses:
        return (
            f"{source.responses} responses exceed the {seen.responses} of the latest tally"
            f" seen (revision {seen.revision}, tallied at {seen.tallied_at.isoformat()})"
        )
    return None
