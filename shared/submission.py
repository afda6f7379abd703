"""The report a center sends for a round (spec §3): the body of ``POST /v1/submissions``.

These models only check shape and bounds; whether the answers fit the named standard is
checked by ``shared.standards.Standard.problems_with``. Unknown fields and wrong types are
refused (strict mode), so ``"412"`` is not silently taken for ``412``.
"""

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from shared.values import Moment, StoredText

RATING_SCALE = 5
MAX_FILES_PER_ITEM = 20
MAX_RESPONDENTS = 10_000_000
MAX_REVISION = 10**15

Code = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_-]{0,15}$")]
RoundId = Annotated[str, Field(pattern=r"^FY\d{4}-(H1|FY)$")]
StandardId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9.-]{0,63}$")]
Count = Annotated[int, Field(ge=0, le=MAX_RESPONDENTS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class QuestionAnswers(_Strict):
    code: Code
    counts: Annotated[list[Count], Field(min_length=RATING_SCALE, max_length=RATING_SCALE)]
    """counts[i] = respondents who gave rating i+1 (1 = น้อยที่สุด ... 5 = มากที่สุด)."""


SourceKind = Literal["center_survey", "citizen_survey"]


class SatisfactionSource(_Strict):
    """Where the satisfaction figures come from (spec §11): the center's own survey, or the
    platform's citizen survey as its tally stood when the center took it: its ``responses``
    (equal to the respondents: ``Standard.problems_with``), ``revision`` and ``tallied_at``.
    Those three are required for a citizen survey and refused for the center's own."""

    kind: SourceKind = "center_survey"
    responses: Annotated[int | None, Field(ge=1, le=MAX_RESPONDENTS, validate_default=True)] = None
    revision: Annotated[int | None, Field(ge=1, le=MAX_REVISION, validate_default=True)] = None
    # A time is text in JSON: not strict, like the file ids.
    tallied_at: Annotated[Moment | None, Field(strict=False, validate_default=True)] = None

    @field_validator("responses", "revision", "tallied_at")
    @classmethod
    def _citizen_survey_only(
        cls, value: int | datetime | None, info: ValidationInfo
    ) -> int | datetime | None:
        kind = info.data.get("kind")
        if kind == "citizen_survey" and value is None:
            raise ValueError("required for a citizen_survey source")
        if kind == "center_survey" and value is not None:
            raise ValueError("only a citizen_survey source has it")
        return value


CENTER_SURVEY = SatisfactionSource()


class Satisfaction(_Strict):
    respondents: Annotated[int, Field(ge=1, le=MAX_RESPONDENTS)]
    questions: Annotated[list[QuestionAnswers], Field(min_length=1, max_length=100)]
    source: SatisfactionSource = CENTER_SURVEY
    """Optional: without it, the center's own survey."""


class ChecklistAnswer(_Strict):
    code: Code
    met: bool
    evidence: Annotated[StoredText, Field(max_length=2000)] = ""
    """A note on what the claim rests on; the files themselves are in ``files``."""
    # Ids are text in JSON and in forms: not strict, unlike the counts.
    files: Annotated[
        list[Annotated[UUID, Field(strict=False)]], Field(max_length=MAX_FILES_PER_ITEM)
    ] = []
    """Evidence files uploaded for this item (spec §10), by id."""

    @field_validator("files")
    @classmethod
    def _each_once(cls, value: list[UUID]) -> list[UUID]:
        if len(set(value)) != len(value):
            raise ValueError("a file is listed twice")
        return value


class Checklist(_Strict):
    standard: StandardId
    items: Annotated[list[ChecklistAnswer], Field(min_length=1, max_length=300)]


class SubmissionBody(_Strict):
    round_id: RoundId
    satisfaction: Satisfaction
    checklist: Checklist
