"""Intake's HTTP API for submissions (``/v1/submissions``)."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field, ValidationError

from services.intake.domain.submissions import Report
from services.intake.entrypoints.auth import Caller, center_of, client_address, principal_in
from services.intake.entrypoints.openapi import operation, problems
from services.intake.entrypoints.problems import NOT_FOUND, Problem, field_errors
from services.intake.handlers import submissions
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


class SubmissionHeaders(BaseModel):
    """The headers of a submission besides the credentials."""

    idempotency_key: str = Field(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_IDEMPOTENCY_KEY,
        description="Unique per submission attempt; a retry with the same key and body gets"
        " the first answer again",
    )


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
    openapi_extra=operation(SubmissionBody, SubmissionHeaders),
)
async def submit(request: Request) -> Response:
    """The route every center calls: it reads its headers and body itself (one JSON pass in
    pydantic-core, no dependency to solve); its OpenAPI entry comes from the same models."""
    scope = request.scope
    state = request.app.state
    who = principal_in(scope)
    center_id = center_of(who)
    idempotency_key = idempotency_key_of(scope["headers"])
    raw_body = await request.body()
    body = parse_body(raw_body)
    check_against_standard(state.catalog, body)
    answer = await submissions.submit(
        state.runtime.pool,
        state.rounds,
        state.writes,
        Report(
            center_id=center_id,
            actor=who.actor,
            body=body,
            raw_body=raw_body,
            idempotency_key=idempotency_key,
            remote_addr=client_address(scope),
            received_at=state.runtime.clock.now(),
        ),
        state.evidence_limits,
    )
    content = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(content, 201, replay_headers(answer), "application/json")


def replay_headers(answer: submissions.Answer) -> dict[str, str]:
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
    found = await submissions.find_submission(request.app.state.runtime.pool, submission_id)
    if found is None or not who.can_read(found["center_id"], found["office_path"]):
        raise NOT_FOUND
    return public_view(found)


@router.get(
    "/submissions/{submission_id}/versions/{version}",
    summary="One version of a submission with its report as it was sent",
)
async def get_version(
    submission_id: UUID,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    who: Caller,
    request: Request,
) -> dict[str, Any]:
    pool = request.app.state.runtime.pool
    found = await submissions.find_version(pool, submission_id, version)
    if found is None or not who.can_read(found["center_id"], found["office_path"]):
        raise NOT_FOUND
    return public_view(found)


def public_view(submission: dict[str, Any]) -> dict[str, Any]:
    """A submission as callers see it: the office path is only for the permission check."""
    return {key: value for key, value in submission.items() if key != "office_path"}
