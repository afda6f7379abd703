"""Scores and verdicts of one submission version (spec §4). Pure: no I/O."""

from collections.abc import Sequence
from dataclasses import dataclass

from services.scoring.domain.explanations import explain
from shared.events import ChecklistScore, Reason, SatisfactionScore, Verdict
from shared.standards import AREAS, ChecklistItem, Standard
from shared.submission import (
    CENTER_SURVEY,
    RATING_SCALE,
    Checklist,
    Satisfaction,
    SatisfactionSource,
)


def _percent(rating_sum: int, answers: int) -> float:
    return round(rating_sum / answers / RATING_SCALE * 100, 2)


def _rating_sum(counts: Sequence[int]) -> int:
    return sum(rating * n for rating, n in enumerate(counts, start=1))


def question_percent(counts: Sequence[int]) -> float:
    """Mean rating of one question as a percentage of the top rating (mean 4.58 -> 91.6)."""
    return _percent(_rating_sum(counts), sum(counts))


def score_satisfaction(satisfaction: Satisfaction) -> SatisfactionScore:
    """Per question, and overall from all answers of all questions pooled together."""
    answers = [q.counts for q in satisfaction.questions]
    return SatisfactionScore(
        overall_percent=_percent(sum(map(_rating_sum, answers)), sum(map(sum, answers))),
        respondents=satisfaction.respondents,
        questions={q.code: question_percent(q.counts) for q in satisfaction.questions},
    )


@dataclass(frozen=True)
class Sample:
    """What a satisfaction score rests on: the fewest answers any question received (the
    first such question named), not the respondents declared (spec §4); and where the
    figures come from (spec §11)."""

    answers: int
    question: str
    respondents: int
    source: SatisfactionSource = CENTER_SURVEY

    def source_detail(self) -> dict[str, float | int | str]:
        """The source as a reason's detail: its kind, and a citizen survey's responses."""
        if self.source.responses is None:
            return {"source": self.source.kind}
        return {"source": self.source.kind, "responses": self.source.responses}


def sample_of(satisfaction: Satisfaction) -> Sample:
    """Declaring 30 respondents while one question has a single answer is a sample of 1."""
    fewest = min(satisfaction.questions, key=lambda q: sum(q.counts))
    return Sample(sum(fewest.counts), fewest.code, satisfaction.respondents, satisfaction.source)


def _met_percent(items: Sequence[ChecklistItem], met: set[str]) -> float:
    total = sum(i.weight for i in items)
    return round(sum(i.weight for i in items if i.code in met) / total * 100, 2)


def score_checklist(standard: Standard, checklist: Checklist) -> ChecklistScore:
    """Weight of met items over weight of all items, per area and overall."""
    met = {answer.code for answer in checklist.items if answer.met}
    by_area = {area: [i for i in standard.items if i.area == area] for area in AREAS}
    return ChecklistScore(
        overall_percent=_met_percent(standard.items, met),
        areas={area: _met_percent(items, met) for area, items in by_area.items() if items},
        unmet_mandatory=[i.code for i in standard.items if i.mandatory and i.code not in met],
    )


def judge(
    standard: Standard,
    satisfaction: SatisfactionScore,
    checklist: ChecklistScore,
    sample: Sample,
) -> tuple[Verdict, list[Reason]]:
    """``not_maintained`` if a mandatory item is unmet; ``at_risk`` below a threshold."""
    if checklist.unmet_mandatory:
        return "not_maintained", [
            explain(standard, "mandatory_item_not_met", {"item": code})
            for code in checklist.unmet_mandatory
        ]
    limits = standard.thresholds
    checks: list[tuple[str, bool, dict[str, float | int | str]]] = [
        (
            "satisfaction_below_threshold",
            satisfaction.overall_percent < limits.satisfaction_percent,
            {
                "percent": satisfaction.overall_percent,
                "threshold": limits.satisfaction_percent,
                **sample.source_detail(),
            },
        ),
        (
            "checklist_below_threshold",
            checklist.overall_percent < limits.checklist_percent,
            {"percent": checklist.overall_percent, "threshold": limits.checklist_percent},
        ),
        (
            "sample_too_small",
            sample.answers < limits.minimum_respondents,
            {
                "sample": sample.answers,
                "question": sample.question,
                "respondents": sample.respondents,
                "minimum": limits.minimum_respondents,
                **sample.source_detail(),
            },
        ),
    ]
    reasons = [explain(standard, code, detail) for code, failed, detail in checks if failed]
    return ("at_risk" if reasons else "maintained"), reasons
