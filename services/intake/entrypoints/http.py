"""Intake's HTTP API for submissions (``/v1/submissions``)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import State

from services.intake import handlers
from services.intake.domain.principals import Principal
from services.intake.entrypoints.auth import Caller, center_of, remote_addr
from services.intake.entrypoints.openapi import problems, schema_of
from services.intake.entrypoints.problems import NOT_FOUND, Problem, field_errors
from shared.standards import StandardCatalog
from shared.submission import SubmissionBody

router = APIRouter(prefix="/v1", tags=["submissions"], responses=problems(404))
PATH = "/v1/submissions"


class Receipt(BaseModel):
    submission_id: UUID
    version: int
    receipt_number: str
    round_id: str
    received_at: datetime
    late: bool
    extension: bool
    status: str


MAX_IDEMPOTENCY_KEY = 255

# The submission route reads its body and headers itself (one JSON pass in pydantic-core,
# no dependency solving: it is the route every center calls), so its OpenAPI entry is
# written out here.
SUBMIT_OPENAPI: dict[str, Any] = {
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": "Unique per submission attempt; a retry with the same key and body"
            " gets the first answer again",
            "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
        }
    ],
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": schema_of(SubmissionBody)}},
    },
    "security": [{"HTTPBearer": []}],
}


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
    responses=problems(403, 409),
    openapi_extra=SUBMIT_OPENAPI,
)
async def submit(who: Caller, request: Request) -> JSONResponse:
    # Served by SubmissionFastPath in front of the framework; this door documents the route
    # and answers the same when the app runs without that middleware.
    answer = await accept_submission(
        request.app.state, who, request.headers.raw, await request.body(), remote_addr(request)
    )
    return JSONResponse(answer.body, status_code=201, headers=replay_headers(answer))


async def accept_submission(
    state: State,
    who: Principal,
    headers: Sequence[tuple[bytes, bytes]],
    raw_body: bytes,
    remote_addr: str,
) -> handlers.Answer:
    """A center's report: keyed, validated in one pass, checked against its standard, then
    stored (see handlers.submit)."""
    center_id = center_of(who)
    idempotency_key = idempotency_key_of(headers)
    body = parse_body(raw_body)
    check_against_standard(state.catalog, body)
    runtime = state.runtime
    return await handlers.submit(
        runtime.pool,
        state.rounds,
        state.writes,
        center_id,
        body,
        raw_body,
        idempotency_key,
        remote_addr,
        runtime.clock.now(),
    )


def replay_headers(answer: handlers.Answer) -> dict[str, str]:
    # The receipt was built from validated values: returned as is, not validated again.
    return {"Idempotent-Replayed": "true"} if answer.replayed else {}


def idempotency_key_of(headers: Sequence[tuple[bytes, bytes]]) -> str:
    keys = [value for name, value in headers if name.lower() == b"idempotency-key"]
    if len(keys) > 1:
        raise Problem(
            400,
            "ambiguous_idempotency_key",
            "Send exactly one Idempotency-Key header",
            "ส่ง Idempotency-Key ได้เพียงหนึ่งรายการ",
            [{"field": "Idempotency-Key", "reason": "given more than once"}],
        )
    key = keys[0].decode("latin-1") if keys else ""
    if not key:
        raise Problem(
            400,
            "idempotency_key_required",
            "The Idempotency-Key header is required",
            "ต้องระบุ Idempotency-Key",
            [{"field": "Idempotency-Key", "reason": "header is missing"}],
        )
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise Problem(
            422,
            "invalid_header",
            "The Idempotency-Key header is not valid",
            "Idempotency-Key ไม่ถูกต้อง",
            [
                {
                    "field": "Idempotency-Key",
                    "reason": f"longer than {MAX_IDEMPOTENCY_KEY} characters",
                }
            ],
        )
    return key


def parse_body(raw_body: bytes) -> SubmissionBody:
    try:
        return SubmissionBody.model_validate_json(raw_body)
    except ValidationError as error:
        raise invalid(
            "The request body is not valid",
            "ข้อมูลที่ส่งมาไม่ถูกต้อง",
            field_errors([dict(e) for e in error.errors()]),
        ) from None


@router.get("/submissions/{submission_id}", summary="A submission with all its versions")
async def get_submission(submission_id: UUID, who: Caller, request: Request) -> dict[str, Any]:
    found = await handlers.find_submission(request.app.state.runtime.pool, submission_id)
    if found is None or not who.can_read(found["center_id"], found["office_path"]):
        raise NOT_FOUND
    return public_view(found)


def public_view(submission: dict[str, Any]) -> dict[str, Any]:
    """A submission as callers see it: the office path is only for the permission check."""
    return {key: value for key, value in submission.items() if key != "office_path"}
