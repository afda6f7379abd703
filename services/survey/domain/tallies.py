"""Tallies of the citizen survey: responses folded into 5-point counts per question, per
center and round (spec §11), the same counts a report's satisfaction part holds."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from shared.events import SurveyResponse, SurveyTally

RATINGS = range(1, 6)


class InvalidResponse(ValueError):
    """A response that can never be counted (a rating outside 1..5, an unknown question...)."""


class TallyKey(NamedTuple):
    center_id: str
    round_id: str


@dataclass
class Addition:
    """What a batch of responses adds to one center's tally in one round."""

    standard: str
    responses: int = 0
    counts: dict[str, list[int]] = field(default_factory=dict)
    last_response_at: datetime | None = None

    def add(self, response: SurveyResponse) -> None:
        self.responses += 1
        counts = self.counts
        for code, rating in response.ratings.items():
            row = counts.get(code)
            if row is None:
                row = counts[code] = [0] * len(RATINGS)
            row[rating - 1] += 1
        if self.last_response_at is None or response.answered_at > self.last_response_at:
            self.last_response_at = response.answered_at


@dataclass(frozen=True)
class Tally:
    """A center's tally in a round as stored: ``counts[code][i]`` respondents gave rating i+1."""

    key: TallyKey
    standard: str
    responses: int
    counts: Mapping[str, list[int]]
    revision: int
    last_response_at: datetime
    tallied_at: datetime

    def as_event_data(self) -> SurveyTally:
        return SurveyTally(
            center_id=self.key.center_id,
            round_id=self.key.round_id,
            standard=self.standard,
            responses=self.responses,
            counts={code: list(self.counts[code]) for code in sorted(self.counts)},
            revision=self.revision,
            last_response_at=self.last_response_at,
            tallied_at=self.tallied_at,
        )


def check(response: SurveyResponse, questions: Collection[str]) -> None:
    """Raise ``InvalidResponse`` unless every rating is 1..5 for a question of the standard
    (``questions``) and at least one question is answered (the event names a round at
    least: ``SurveyResponse`` does not parse without)."""
    if not response.ratings:
        raise InvalidResponse("the response answers no question")
    if all(code in questions and rating in RATINGS for code, rating in response.ratings.items()):
        return
    unknown = sorted(set(response.ratings) - set(questions))
    if unknown:
        raise InvalidResponse(
            f"questions not in standard {response.standard!r}: {', '.join(unknown)}"
        )
    outside = sorted(code for code, rating in response.ratings.items() if rating not in RATINGS)
    raise InvalidResponse(f"ratings outside 1..5 for {', '.join(outside)}")


def fold(responses: Iterable[SurveyResponse]) -> dict[TallyKey, Addition]:
    """What ``responses`` add to each (center, round) tally: each response counts once in every
    round it names. The keys are the tallies that change."""
    additions: dict[TallyKey, Addition] = {}
    for response in responses:
        for round_id in dict.fromkeys(response.round_ids):  # a round named twice counts once
            key = TallyKey(response.center_id, round_id)
            addition = additions.setdefault(key, Addition(response.standard))
            if addition.standard != response.standard:
                raise InvalidResponse(
                    f"{key.center_id} in {key.round_id}: standard {response.standard!r}"
                    f" beside {addition.standard!r} in one batch"
                )
            addition.add(response)
    return additions
