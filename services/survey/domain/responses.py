"""A citizen's answers: which questions they rated and how, and the event id that makes
the same device answering the same center on the same day one response."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from shared.events import SURVEY_NAMESPACE

RATINGS = ("1", "2", "3", "4", "5")
FIELD_PREFIX = "q_"


def event_id(device: str, center_id: str, day: date) -> UUID:
    return uuid5(SURVEY_NAMESPACE, f"{device}/{center_id}/{day.isoformat()}")


@dataclass(frozen=True)
class Answers:
    """The form's ratings (question code -> 1..5) and the questions left unanswered."""

    ratings: dict[str, int]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def answers_of(form: Mapping[str, str], codes: Sequence[str]) -> Answers:
    """Ratings are read only for the standard's questions; anything else is ignored, and a
    value other than 1..5 counts as no answer."""
    ratings: dict[str, int] = {}
    missing: list[str] = []
    for code in codes:
        value = form.get(FIELD_PREFIX + code)
        if value in RATINGS:
            ratings[code] = int(value)
        else:
            missing.append(code)
    return Answers(ratings, tuple(missing))
