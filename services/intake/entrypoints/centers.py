"""Who the caller is, and a center with its rounds, for those who may see it (404 otherwise,
as for submissions)."""

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.intake.adapters.centers import CenterInRound
from services.intake.domain.centers import Center
from services.intake.entrypoints.auth import Caller
from services.intake.entrypoints.openapi import problems
from services.intake.entrypoints.rounds import RoundView
from services.intake.handlers import centers

router = APIRouter(prefix="/v1", tags=["centers"], responses=problems())


class CenterSummary(BaseModel):
    id: str
    name_th: str
    name_en: str
    office_path: str
    province: str

    @classmethod
    def of(cls, center: Center) -> "CenterSummary":
        return cls(
            id=center.id,
            name_th=center.name_th,
            name_en=center.name_en,
            office_path=center.office_path,
            province=center.province,
        )


class CenterView(CenterSummary):
    certified_until: date | None

    @classmethod
    def of(cls, center: Center) -> "CenterView":
        return cls(**CenterSummary.of(center).model_dump(), certified_until=center.certified_until)


class Me(BaseModel):
    kind: Literal["center", "office", "operator"]
    email: str | None = Field(description="A person's session: their address")
    expires_at: datetime | None = Field(description="A person's session: when it ends")
    center: CenterSummary | None
    office_path: str | None


class CenterRound(BaseModel):
    round: RoundView
    submission_id: UUID | None
    latest_version: int | None
    receipt_number: str | None = Field(description="The latest version's")
    received_at: datetime | None = Field(description="The latest version's")
    late: bool | None = Field(
        description="Whether the submission came after the due time (its first version,"
        " as completeness counts it)"
    )
    status: Literal["received", "scored"] | None = Field(description="The latest version's")
    verdict: str | None = Field(description="The latest version's, once scored")
    extension_until: datetime | None = Field(description="An operator's extension, if any")
    satisfaction_source: Literal["center_survey", "citizen_survey"] | None = Field(
        description="Where the latest version's satisfaction figures come from"
    )
    survey_responses: int | None = Field(
        description="The citizen survey's responses the latest version took, if it did"
    )

    @classmethod
    def of(cls, found: CenterInRound) -> "CenterRound":
        return cls(
            round=RoundView.of(found.round),
            submission_id=found.submission_id,
            latest_version=found.latest_version,
            receipt_number=found.receipt_number,
            received_at=found.received_at,
            late=found.late,
            status=found.status,
            verdict=found.verdict,
            extension_until=found.extension_until,
            satisfaction_source=found.satisfaction_source,
            survey_responses=found.survey_responses,
        )


@router.get("/me", response_model=Me, summary="Who the caller is (any caller but the portal)")
async def me(who: Caller, request: Request) -> Me:
    assert who.kind != "portal"  # Caller refused it
    center = None
    if who.center_id is not None:
        found = await centers.find_center(request.app.state.runtime.pool, who, who.center_id)
        center = CenterSummary.of(found)
    return Me(
        kind=who.kind,
        email=who.email,
        expires_at=who.expires_at,
        center=center,
        office_path=who.office_path,
    )


@router.get(
    "/centers/{center_id}",
    response_model=CenterView,
    summary="A center of the registry",
    responses=problems(404),
)
async def get_center(center_id: str, who: Caller, request: Request) -> CenterView:
    found = await centers.find_center(request.app.state.runtime.pool, who, center_id)
    return CenterView.of(found)


@router.get(
    "/centers/{center_id}/rounds",
    response_model=list[CenterRound],
    summary="Every round with the center's submission in it",
    responses=problems(404),
)
async def center_rounds(center_id: str, who: Caller, request: Request) -> list[CenterRound]:
    found = await centers.center_rounds(request.app.state.runtime.pool, who, center_id)
    return [CenterRound.of(in_round) for in_round in found]
