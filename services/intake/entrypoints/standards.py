"""The standards a report is written against: what the portal's form asks, item by item."""

from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.intake.entrypoints.auth import Caller
from services.intake.entrypoints.openapi import problems
from services.intake.entrypoints.problems import NOT_FOUND
from shared.standards import AREA_TITLES, AREAS, ChecklistItem, Question, Standard, Thresholds

router = APIRouter(prefix="/v1", tags=["standards"], responses=problems())


class StandardSummary(BaseModel):
    id: str
    version: int
    title_th: str
    title_en: str
    illustrative: bool

    @classmethod
    def of(cls, standard: Standard) -> "StandardSummary":
        return cls(
            id=standard.id,
            version=standard.version,
            title_th=standard.title_th,
            title_en=standard.title_en,
            illustrative=standard.illustrative,
        )


class AreaView(BaseModel):
    code: str
    title_th: str
    title_en: str


class StandardView(StandardSummary):
    thresholds: Thresholds
    questions: list[Question]
    items: list[ChecklistItem]
    areas: list[AreaView]

    @classmethod
    def of(cls, standard: Standard) -> "StandardView":
        used = {item.area for item in standard.items}
        return cls(
            **StandardSummary.of(standard).model_dump(),
            thresholds=standard.thresholds,
            questions=standard.questions,
            items=standard.items,
            areas=[
                AreaView(code=area, title_th=AREA_TITLES[area][0], title_en=AREA_TITLES[area][1])
                for area in AREAS
                if area in used
            ],
        )


@router.get("/standards", response_model=list[StandardSummary], summary="Every standard")
async def list_standards(_: Caller, request: Request) -> list[StandardSummary]:
    catalog = request.app.state.catalog
    return [StandardSummary.of(s) for s in catalog.standards.values()]


@router.get(
    "/standards/{standard_id}",
    response_model=StandardView,
    summary="A standard's questions, checklist items by area and thresholds",
    responses=problems(404),
)
async def get_standard(standard_id: str, _: Caller, request: Request) -> StandardView:
    standard = request.app.state.catalog.get(standard_id)
    if standard is None:
        raise NOT_FOUND
    return StandardView.of(standard)
