"""A center's citizen survey as the portal shows it (spec §11): the live tally the survey
service keeps for a center and round, and the source a report names for its satisfaction
figures when it took them from that tally."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.submission import RATING_SCALE

CITIZEN_SURVEY = "citizen_survey"


def percent_of(counts: list[int] | tuple[int, ...]) -> float | None:
    """Satisfaction of some answers (mean rating / 5 * 100), as the scorer computes it."""
    total = sum(counts)
    if total == 0:
        return None
    mean = sum((rating + 1) * count for rating, count in enumerate(counts)) / total
    return round(mean / RATING_SCALE * 100, 2)


@dataclass(frozen=True)
class Tally:
    """The survey service's ``SurveyTally`` of a center in a round."""

    center_id: str
    round_id: str
    standard: str
    responses: int
    counts: dict[str, tuple[int, ...]]
    revision: int
    last_response_at: datetime
    tallied_at: datetime

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "Tally":
        return cls(
            center_id=str(data["center_id"]),
            round_id=str(data["round_id"]),
            standard=str(data["standard"]),
            responses=int(data["responses"]),
            counts={
                str(code): tuple(int(c) for c in counts)
                for code, counts in data["counts"].items()
                if len(counts) == RATING_SCALE
            },
            revision=int(data["revision"]),
            last_response_at=datetime.fromisoformat(str(data["last_response_at"])),
            tallied_at=datetime.fromisoformat(str(data["tallied_at"])),
        )

    def percent(self, question: str) -> float | None:
        return percent_of(self.counts.get(question, (0,) * RATING_SCALE))

    def overall_percent(self) -> float | None:
        pooled = [sum(counts[i] for counts in self.counts.values()) for i in range(RATING_SCALE)]
        return percent_of(pooled)

    def counts_of(self, question: str) -> tuple[int, ...]:
        return self.counts.get(question, (0,) * RATING_SCALE)


@dataclass(frozen=True)
class SurveySource:
    """``satisfaction.source`` of a report whose figures are a citizen survey's tally; a
    report without one is the center's own survey."""

    responses: int
    revision: int
    tallied_at: datetime

    @classmethod
    def of_tally(cls, tally: Tally) -> "SurveySource":
        return cls(tally.responses, tally.revision, tally.tallied_at)

    @classmethod
    def parsed(cls, value: Any) -> "SurveySource | None":
        """From a report or a draft (``to_json``); anything else (a center's own survey, a
        value not as the portal writes it) is no citizen survey."""
        if not isinstance(value, Mapping) or value.get("kind") != CITIZEN_SURVEY:
            return None
        try:
            responses, revision = int(value["responses"]), int(value["revision"])
            tallied_at = datetime.fromisoformat(str(value["tallied_at"]).replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError):
            return None
        if responses < 1 or revision < 1 or tallied_at.tzinfo is None:
            return None
        return cls(responses, revision, tallied_at)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": CITIZEN_SURVEY,
            "responses": self.responses,
            "revision": self.revision,
            "tallied_at": self.tallied_at.isoformat().replace("+00:00", "Z"),
        }
