"""Operators' window on the export to OPS/PMO: ask for one now, and see each export's state
(the export service reports it through ExportStatus events)."""

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake.entrypoints.auth import Caller, remote_addr, require
from services.intake.entrypoints.openapi import problems
from services.intake.handlers import exports

router = APIRouter(prefix="/v1", tags=["exports"], responses=problems(403, 404))


class ExportRequestAccepted(BaseModel):
    request_id: UUID
    round_id: str
    status: str


@router.post(
    "/rounds/{round_id}/exports",
    status_code=202,
    response_model=ExportRequestAccepted,
    summary="Export the round to OPS/PMO now (operators; audited)",
)
async def request_export(round_id: str, who: Caller, request: Request) -> JSONResponse:
    require(who, "operator")
    runtime = request.app.state.runtime
    request_id = await exports.request_export(
        runtime.pool, who, round_id, remote_addr(request), runtime.clock.now()
    )
    body = {"request_id": str(request_id), "round_id": round_id, "status": "requested"}
    return JSONResponse(body, status_code=202)


@router.get(
    "/rounds/{round_id}/exports",
    summary="The round's exports: state, attempts, last error, counts (operators)",
)
async def round_exports(round_id: str, who: Caller, request: Request) -> dict[str, Any]:
    require(who, "operator")
    found = await exports.round_exports(request.app.state.runtime.pool, round_id)
    return {"round_id": round_id, **found}
