"""The report a center sends for a round (spec §3): the body of ``POST /v1/submissions``.

These models only check shape and bounds; whether the answers fit the named standard is
checked by ``shared.standards.Standard.problems_with``. Unknown fields and wrong types are
refused (strict mode), so ``"412"`` is not silently taken for ``412``.
"""

from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.values import StoredText

RATING_SCALE = 5
MAX_FILES_PER_ITEM = 20
MAX_RESPONDENTS = 10_000_000

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


class Satisfaction(_Strict):
    respondents: Annotated[int, Field(ge=1, le=MAX_RESPONDENTS)]
    questions: Annotated[list[QuestionAnswers], Field(min_length=1, max_length=100)]


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
