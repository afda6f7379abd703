"""Errors as ``application/problem+json`` (RFC 9457), in English and Thai, naming the field.

Every answer intake gives to a wrong request is one of these: the framework's own (unknown
path, wrong method, unreadable body) are turned into problems too, and a value the database
refuses (``asyncpg.DataError``) is a 422, never a 500.
"""

import json
import logging
import math
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Send

from services.intake.domain.accounts import ScopeNotChosen
from services.intake.domain.evidence import EvidenceRefused
from services.intake.domain.submissions import SubmissionRefused
from services.intake.handlers.errors import InvalidRequest, NotFound
from services.intake.handlers.sign_in import LinkUsedOrExpired, NotASession, SignInThrottled
from services.intake.handlers.submissions import IdempotencyKeyReused, RoundChanging
from services.intake.metrics import IntakeMetrics
from shared.database import DATABASE_UNAVAILABLE
from shared.object_storage import ObjectNotFound, ObjectStorageUnavailable

PROBLEM = "application/problem+json"
log = logging.getLogger(__name__)


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        title_th: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.title_th = title_th
        self.errors = errors or []
        self.headers = headers
        # Members of this kind of problem beyond RFC 9457's (documented with its model).
        self.extra = extra or {}


def problem_body(problem: Problem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"https://gecc.example/problems/{problem.code}",
        "title": problem.title,
        "title_th": problem.title_th,
        "status": problem.status,
        "code": problem.code,
    }
    if problem.errors:
        body["errors"] = problem.errors
    return {**body, **problem.extra}


class ProblemDetails(BaseModel):
    """The body of every error answer (documented in the OpenAPI document)."""

    type: str
    title: str
    title_th: str
    status: int
    code: str
    errors: list[dict[str, str | int]] | None = None


class ScopeOption(BaseModel):
    scope: str = Field(description="center:<code>, office:<path> or operators")
    label_th: str
    label_en: str


class ScopeChoice(ProblemDetails):
    """409 ``choose_scope``: the account may act as any of ``scopes``; ask again naming one
    (the sign-in code is still usable)."""

    scopes: list[ScopeOption]


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem_body(problem),
        status_code=problem.status,
        media_type=PROBLEM,
        headers=problem.headers,
    )


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors as ``{field, reason}`` with a dotted JSON path (the body prefix dropped)."""
    result = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc and loc[0] == "body":
            loc = loc[1:]
        reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        result.append({"field": ".".join(loc) or "(body)", "reason": reason})
    return result


NOT_FOUND = Problem(404, "not_found", "Not found", "ไม่พบข้อมูล")


DATABASE_DOWN = Problem(
    503,
    "database_unavailable",
    "The database is unavailable; try again",
    "ระบบฐานข้อมูลขัดข้องชั่วคราว กรุณาลองใหม่",
    headers={"Retry-After": "5"},
)


STORAGE_DOWN = Problem(
    503,
    "storage_unavailable",
    "File storage is unavailable; try again later",
    "ระบบจัดเก็บไฟล์ขัดข้องชั่วคราว กรุณาลองใหม่ภายหลัง",
    headers={"Retry-After": "30"},
)
EVIDENCE_STATUSES = {
    "file_too_large": 413,
    "quota_exceeded": 413,
    "unsupported_type": 415,
    "too_many_files": 409,
    "file_referenced": 409,
}


def as_problem(error: Exception) -> Problem | None:
    """The answer for an error a use case raises; None for a bug (a 500)."""
    match error:
        case Problem():
            return error
        case RequestValidationError():
            return Problem(
                422,
                "invalid_body",
                "The request body is not valid",
                "ข้อมูลที่ส่งมาไม่ถูกต้อง",
                field_errors(list(error.errors())),
            )
        case NotFound():
            return NOT_FOUND
        case IdempotencyKeyReused():
            return Problem(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different body",
                "Idempotency-Key นี้เคยใช้กับข้อมูลอื่นแล้ว",
                [{"field": "Idempotency-Key", "reason": f"{error} was used for another body"}],
            )
        case InvalidRequest():
            return Problem(
                422,
                "invalid_body",
                "The request is not valid",
                "ข้อมูลที่ส่งมาไม่ถูกต้อง",
                [{"field": field, "reason": reason} for field, reason in error.errors],
            )
        case HTTPException():
            return _framework_problem(error)
        # A value PostgreSQL cannot take (validation should have caught it first).
        case asyncpg.DataError():
            return Problem(
                422,
                "invalid_value",
                "A value in the request cannot be stored",
                "ข้อมูลบางส่วนไม่สามารถบันทึกได้",
            )
        case SubmissionRefused():
            status = 404 if error.code == "round_not_found" else 409
            return Problem(status, error.code, error.message_en, error.message_th)
        case EvidenceRefused():
            status = EVIDENCE_STATUSES[error.code]
            # Refused before the body was all read: the rest is not worth receiving.
            headers = {"Connection": "close"} if status in (413, 415) else None
            return Problem(status, error.code, error.message_en, error.message_th, headers=headers)
        case ObjectStorageUnavailable():
            log.warning("object storage unavailable: %s", error)
            return STORAGE_DOWN
        case ObjectNotFound():  # a row whose bytes are gone: a fault worth a look
            log.error("evidence bytes missing: %s", error)
            return NOT_FOUND
        case SignInThrottled():
            return Problem(
                429,
                "rate_limited",
                "Too many sign-in requests for this address; try again later",
                "ขอเข้าสู่ระบบด้วยอีเมลนี้บ่อยเกินกำหนด กรุณารอแล้วลองใหม่",
                headers={"Retry-After": str(math.ceil(error.retry_after))},
            )
        case LinkUsedOrExpired():
            return LINK_USED_OR_EXPIRED
        case ScopeNotChosen():
            return scope_choice(error)
        case NotASession():
            return Problem(
                403,
                "forbidden",
                "Only a session can be ended: API tokens are revoked by an operator",
                "ออกจากระบบได้เฉพาะเซสชันของผู้ใช้",
            )
        case RoundChanging():  # an operator is moving the round's dates right now
            return Problem(
                503,
                "round_changing",
                "The round's dates are being changed; try again",
                "กำลังมีการแก้ไขกำหนดการของรอบ กรุณาลองใหม่",
                headers={"Retry-After": "1"},
            )
        # Unreachable or overloaded: 503, never a 500; nothing was written, every change
        # being one transaction.
        case _ if isinstance(error, DATABASE_UNAVAILABLE):
            return DATABASE_DOWN
    return None


LINK_USED_OR_EXPIRED = Problem(
    410,
    "link_used_or_expired",
    "This sign-in link was used already or has expired; ask for a new one",
    "ลิงก์เข้าสู่ระบบนี้ถูกใช้ไปแล้วหรือหมดอายุ กรุณาขอลิงก์ใหม่",
)


def scope_choice(error: ScopeNotChosen) -> Problem:
    options = [
        ScopeOption(scope=str(m.scope), label_th=m.label_th, label_en=m.label_en).model_dump()
        for m in error.memberships
    ]
    return Problem(
        409,
        "choose_scope",
        "Choose what to sign in as",
        "กรุณาเลือกหน่วยงานที่จะเข้าใช้งาน",
        [{"field": "scope", "reason": "name one of scopes"}],
        extra={"scopes": options},
    )


METHOD_NOT_ALLOWED = Problem(
    405, "method_not_allowed", "This method is not allowed here", "ไม่รองรับคำขอแบบนี้"
)


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path (the framework names only the first
    route's, where two routes share a path)."""
    allowed = [
        method
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]
    return ", ".join(allowed)


def _framework_problem(error: HTTPException, request: Request | None = None) -> Problem:
    if error.status_code == 404:
        return NOT_FOUND
    if error.status_code == 405:
        allowed = allowed_methods(request) if request else (error.headers or {}).get("Allow")
        return Problem(
            405,
            METHOD_NOT_ALLOWED.code,
            METHOD_NOT_ALLOWED.title,
            METHOD_NOT_ALLOWED.title_th,
            headers={"Allow": allowed} if allowed else None,
        )
    if error.status_code == 400:  # a body FastAPI could not read (not UTF-8, say)
        return Problem(
            422,
            "invalid_body",
            "The request body is not valid",
            "ข้อมูลที่ส่งมาไม่ถูกต้อง",
            [{"field": "(body)", "reason": str(error.detail)}],
        )
    return Problem(error.status_code, "http_error", str(error.detail), str(error.detail))


HANDLED = (
    Problem,
    RequestValidationError,
    NotFound,
    IdempotencyKeyReused,
    InvalidRequest,
    SubmissionRefused,
    SignInThrottled,
    LinkUsedOrExpired,
    EvidenceRefused,
    ObjectStorageUnavailable,
    ObjectNotFound,
    ScopeNotChosen,
    NotASession,
    RoundChanging,
    HTTPException,
    asyncpg.DataError,
    *DATABASE_UNAVAILABLE,
)


def install(app: FastAPI) -> None:
    async def on_error(request: Request, error: Exception) -> JSONResponse:
        problem = (
            _framework_problem(error, request)
            if isinstance(error, HTTPException)
            else as_problem(error)
        )
        if problem is None:
            raise error
        if problem.status == 403:
            client = request.client.host if request.client else ""
            note_refusal(request.app.state, "forbidden", request.method, request.url.path, client)
        return problem_response(problem)

    for error_class in HANDLED:
        app.add_exception_handler(error_class, on_error)


def note_refusal(state: State, reason: str, method: str, path: str, client: str) -> None:
    """A request refused for its credentials: logged (never the token) and counted."""
    metrics: IntakeMetrics = state.metrics
    metrics.auth_refusals.labels(reason).inc()
    log.warning("refused %s %s from %s: %s", method, path, client or "?", reason)


async def send_problem(send: Send, problem: Problem) -> None:
    """A problem answered from ASGI middleware, before any route."""
    await send_json(send, problem.status, problem_body(problem), PROBLEM, problem.headers or {})


async def send_json(
    send: Send, status: int, body: Any, media_type: str, extra: dict[str, str]
) -> None:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
