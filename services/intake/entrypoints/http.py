"""Intake's HTTP API for submissions (``/v1/submissions``)."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.intake import handlers
from services.intake.entrypoints.auth import Caller, center_of, remote_addr
from services.intake.entrypoints.problems import NOT_FOUND, Problem
from shared.standards import StandardCatalog
from shared.submission import SubmissionBody

router = APIRouter(prefix="/v1", tags=["submissions"])


class Receipt(BaseModel):
    submission_id: UUID
    version: int
    receipt_number: str
    round_id: str
    received_at: datetime
    late: bool
    extension: bool
    status: str


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Unique per submission attempt; a retry with "
        "the same key and body gets the first answer again",
        max_length=255,
    ),
]


def invalid(reason_en: str, reason_th: str, errors: list[dict[str, Any]]) -> Problem:
    return Problem(422, "invalid_body", reason_en, reason_th, errors)


def check_against_standard(catalog: StandardCatalog, body: SubmissionBody) -> None:
    standard = catalog.get(body.checklist.standard)
    if standard is None:
        raise invalid(
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
        raise invalid(
            "The report does not fit its standard",
            "รายงานไม่ตรงตามหลักเกณฑ์",
            [{"field": ".".join(map(str, p.loc)), "reason": p.reason} for p in problems],
        )


@router.post(
    "/submissions",
    status_code=201,
    response_model=Receipt,
    summary="Submit or amend the caller's report for a round",
)
async def submit(
    body: SubmissionBody,
    who: Caller,
    request: Request,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    center_id = center_of(who)
    if not idempotency_key:
        raise Problem(
            400,
            "idempotency_key_required",
            "The Idempotency-Key header is required",
            "ต้องระบุ Idempotency-Key",
            [{"field": "Idempotency-Key", "reason": "header is missing"}],
        )
    check_against_standard(request.app.state.catalog, body)
    runtime = request.app.state.runtime
    answer = await handlers.submit(
        runtime.pool,
        runtime.settings.topics,
        center_id,
        body,
        await request.body(),
        idempotency_key,
        remote_addr(request),
    )
    # Returned as is: the receipt was built from validated values, no need to validate again.
    replayed = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=201, headers=replayed)


@router.get("/submissions/{submission_id}", summary="A submission with all its versions")
async def get_submission(submission_id: UUID, who: Caller, request: Request) -> dict[str, Any]:
    found = await handlers.find_submission(request.app.state.runtime.pool, submission_id)
    if found is None or not who.can_read(found["center_id"], found["office_path"]):
        raise NOT_FOUND
    return public_view(found)


def public_view(submission: dict[str, Any]) -> dict[str, Any]:
    """A submission as callers see it: the office path is only for the permission check."""
    return {key: value for key, value in submission.items() if key != "office_path"}
