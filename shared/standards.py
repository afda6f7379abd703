"""Versioned GECC standards read from definition files (``standards/*.toml``).

A standard names its survey questions and checklist items (with area, weight and whether the
item is mandatory) and the thresholds a verdict is judged by. Loading checks every file
completely; one broken file raises ``StandardError`` naming the file and the field, so a
service never starts with half a standard.
"""

import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.submission import Code, StandardId, SubmissionBody
from shared.validation import validation_problems

Area = Literal["physical", "quality", "outcome"]
AREAS: tuple[Area, ...] = ("physical", "quality", "outcome")
# How people read an area's name, in Thai and in English.
AREA_TITLES: dict[Area, tuple[str, str]] = {
    "physical": ("ด้านกายภาพของจุดให้บริการ", "Physical: the service point itself"),
    "quality": ("ด้านคุณภาพการให้บริการ", "Quality: how the service is run"),
    "outcome": ("ด้านผลลัพธ์ต่อประชาชน", "Outcome: results for citizens"),
}


class _Definition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Question(_Definition):
    code: Code
    title_th: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class ChecklistItem(_Definition):
    code: Code
    area: Area
    mandatory: bool
    weight: Annotated[float, Field(gt=0, le=100)]
    title_th: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class Thresholds(_Definition):
    satisfaction_percent: Annotated[float, Field(ge=0, le=100)] = 85.0
    checklist_percent: Annotated[float, Field(ge=0, le=100)] = 80.0
    # Compared with the sample, the fewest answers any question received (spec §4); the name
    # is the definition files' own.
    minimum_respondents: Annotated[int, Field(ge=1)] = 30


@dataclass(frozen=True)
class Problem:
    """One reason a submission does not fit its standard, at a JSON path of the body."""

    loc: tuple[str | int, ...]
    reason: str


class Standard(_Definition):
    id: StandardId
    version: Annotated[int, Field(ge=1)]
    illustrative: bool = False
    title_th: str
    title_en: str
    thresholds: Thresholds = Thresholds()
    questions: Annotated[list[Question], Field(min_length=1)]
    items: Annotated[list[ChecklistItem], Field(min_length=1)]

    @model_validator(mode="after")
    def _codes_unique(self) -> "Standard":
        for name, codes in (
            ("questions", [q.code for q in self.questions]),
            ("items", [i.code for i in self.items]),
        ):
            repeated = sorted(c for c, n in Counter(codes).items() if n > 1)
            if repeated:
                raise ValueError(f"{name}: codes repeated: {', '.join(repeated)}")
        return self

    def problems_with(self, body: SubmissionBody) -> list[Problem]:
        """Everything in ``body`` that does not fit this standard (empty when it fits)."""
        problems: list[Problem] = []
        satisfaction, checklist = body.satisfaction, body.checklist
        problems += _answered_once(
            ("satisfaction", "questions"),
            [q.code for q in satisfaction.questions],
            [q.code for q in self.questions],
            "question",
        )
        for index, answers in enumerate(satisfaction.questions):
            total = sum(answers.counts)
            loc = ("satisfaction", "questions", index, "counts")
            if total == 0:
                problems.append(Problem(loc, "question has no answers"))
            elif total > satisfaction.respondents:
                problems.append(
                    Problem(loc, f"{total} answers exceed {satisfaction.respondents} respondents")
                )
        responses = satisfaction.source.responses
        if responses is not None and responses != satisfaction.respondents:
            problems.append(
                Problem(
                    ("satisfaction", "source", "responses"),
                    f"{responses} responses differ from {satisfaction.respondents} respondents:"
                    " a citizen survey's respondents are its responses",
                )
            )
        problems += _answered_once(
            ("checklist", "items"),
            [i.code for i in checklist.items],
            [i.code for i in self.items],
            "checklist item",
        )
        return problems


def _answered_once(
    loc: tuple[str, ...], given: list[str], expected: list[str], what: str
) -> list[Problem]:
    known = set(expected)
    problems = [
        Problem((*loc, index, "code"), f"unknown {what} code {code!r} for this standard")
        for index, code in enumerate(given)
        if code not in known
    ]
    counts = Counter(given)
    problems += [
        Problem((*loc, given.index(code), "code"), f"{what} {code!r} answered {n} times")
        for code, n in counts.items()
        if n > 1
    ]
    missing = [code for code in expected if code not in counts]
    if missing:
        problems.append(Problem(loc, f"missing {what}s: {', '.join(missing)}"))
    return problems


class StandardError(Exception):
    """A definition file cannot be used; the message names the file and the reason."""


def load_standard(path: Path) -> Standard:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        standard = Standard.model_validate(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise StandardError(f"{path}: cannot read: {error}") from error
    except ValidationError as error:
        details = validation_problems(error, "(file)")
        raise StandardError(f"{path}: invalid standard: {details}") from error
    if path.stem != standard.id:
        raise StandardError(f"{path}: file name must be the standard id {standard.id!r}.toml")
    return standard


@dataclass(frozen=True)
class StandardCatalog:
    """All standards known to a service, by id."""

    standards: dict[str, Standard]

    def get(self, standard_id: str) -> Standard | None:
        return self.standards.get(standard_id)

    @classmethod
    def of(cls, standards: Iterable[Standard]) -> "StandardCatalog":
        return cls({s.id: s for s in standards})


def load_catalog(directory: Path) -> StandardCatalog:
    paths = sorted(directory.glob("*.toml"))
    if not paths:
        raise StandardError(f"{directory}: no standard definition files (*.toml)")
    return StandardCatalog.of(load_standard(p) for p in paths)


def default_standards_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "standards"
