"""Intake's HTTP API (``/v1``)."""

from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from services.intake import handlers
from services.intake.adapters import repository
from services.intake.domain.rounds import Round
from services.intake.domain.thai import thai_date
from services.intake.entrypoints.auth import Caller, center_of
from services.intake.entrypoints.problems import NOT_FOUND, Problem
from shared.standards import StandardCatalog
from shared.submission import SubmissionBody

router = APIRouter(prefix="/v1")


class Receipt(BaseModel):
    submission_id: UUID
    version: int
    receipt_number: str
    round_id: str
    received_at: datetime
    late: bool
    status: str = "received"


class RoundView(BaseModel):
    id: str
    kind: str
    fiscal_year: int
    period_start: str
    period_end: str
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    due_th: str
    closes_th: str

    @classmethod
    def of(cls, r: Round) -> "RoundView":
        return cls(
            id=r.id,
            kind=r.kind,
            fiscal_year=r.fiscal_year,
            period_start=r.period_start.isoformat(),
            period_end=r.period_end.isoformat(),
            opens_at=r.opens_at,
            due_at=r.due_at,
            closes_at=r.closes_at,
            due_th=thai_date(r.due_at),
            closes_th=thai_date(r.closes_at),
        )


def _catalog(request: Request) -> StandardCatalog:
    catalog: StandardCatalog = request.app.state.catalog
    return catalog


@router.post(
    "/submissions",
    status_code=201,
    response_model=Receipt,
    summary="Submit or amend the caller's report for a round",
)
async def submit(body: SubmissionBody, who: Caller, request: Request) -> Receipt:
    center_id = center_of(who)
    standard = _catalog(request).get(body.checklist.standard)
    if standard is None:
        raise Problem(
            422,
            "invalid_body",
            "The request body is not valid",
            "ข้อมูลที่ส่งมาไม่ถูกต้อง",
            [
                {
                    "field": "checklist.standard",
                    "reason": f"unknown standard {body.checklist.standard!r}",
                }
            ],
        )
    problems = standard.problems_with(body)
    if problems:
        raise Problem(
            422,
            "invalid_body",
            "The report does not fit its standard",
            "รายงานไม่ตรงตามหลักเกณฑ์",
            [{"field": ".".join(map(str, p.loc)), "reason": p.reason} for p in problems],
        )
    runtime = request.app.state.runtime
    received = await handlers.submit(runtime.pool, runtime.settings.topics, center_id, body)
    return Receipt(
        submission_id=received.submission_id,
        version=received.version,
        receipt_number=received.receipt_number,
        round_id=received.round_id,
        received_at=received.received_at,
        late=received.late,
    )


@router.get("/submissions/{submission_id}", summary="A submission with all its versions")
async def get_submission(submission_id: UUID, who: Caller, request: Request) -> dict[str, Any]:
    found = await handlers.find_submission(request.app.state.runtime.pool, submission_id)
    if found is None or not who.can_read(found["center_id"], found["office_path"]):
        raise NOT_FOUND
    return {key: value for key, value in found.items() if key != "office_path"}


@router.get("/rounds", response_model=list[RoundView], summary="All rounds")
async def list_rounds(_: Caller, request: Request) -> list[RoundView]:
    async with request.app.state.runtime.pool.acquire() as conn:
        return [RoundView.of(r) for r in await repository.list_rounds(conn)]


@router.get("/rounds/{round_id}", response_model=RoundView, summary="One round")
async def get_round(round_id: str, _: Caller, request: Request) -> RoundView:
    async with request.app.state.runtime.pool.acquire() as conn:
        found = await repository.get_round(conn, round_id)
    if found is None:
        raise NOT_FOUND
    return RoundView.of(found)
