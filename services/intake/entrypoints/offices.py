"""Parent offices by name, with the offices below them (offices in their subtree,
operators everywhere; 404 for anything else, as for centers)."""

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from services.intake.entrypoints.auth import Caller, require
from services.intake.entrypoints.openapi import problems
from services.intake.handlers import offices

router = APIRouter(prefix="/v1", tags=["offices"], responses=problems(403, 404))


class ChildOfficeView(BaseModel):
    office_path: str
    name_th: str | None
    name_en: str | None
    centers: int = Field(description="Centers reporting through it, all levels below included")


class OfficeView(BaseModel):
    office_path: str
    name_th: str | None = Field(description="None: no name imported (gecc offices import)")
    name_en: str | None
    parent: str | None = Field(description="The office above; None for PMO")
    children: list[ChildOfficeView] = Field(description="The offices directly below, by path")


@router.get(
    "/offices/{path:path}",
    response_model=OfficeView,
    summary="A parent office with its names and the offices below it",
)
async def get_office(path: str, who: Caller, request: Request) -> OfficeView:
    require(who, "operator", "office")
    assert who.scope is not None
    found = await offices.office(request.app.state.runtime.pool, path, who.scope)
    return OfficeView(
        office_path=found.path,
        name_th=found.name_th,
        name_en=found.name_en,
        parent=found.parent,
        children=[
            ChildOfficeView(
                office_path=c.path, name_th=c.name_th, name_en=c.name_en, centers=c.centers
            )
            for c in found.children
        ],
    )
