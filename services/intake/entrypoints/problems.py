"""Errors as ``application/problem+json`` (RFC 9457), in English and Thai, naming the field."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from services.intake.domain.submissions import SubmissionRefused
from services.intake.handlers import IdempotencyKeyReused, InvalidRoundDates, NotFound
from shared.database import DATABASE_UNAVAILABLE

PROBLEM = "application/problem+json"


class Problem(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        title_th: str,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(title)
        self.status = status
        self.code = code
        self.title = title
        self.title_th = title_th
        self.errors = errors or []
        self.headers = headers


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
    return body


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
        result.append({"field": ".".join(loc) or "(body)", "reason": error.get("msg", "invalid")})
    return result


NOT_FOUND = Problem(404, "not_found", "Not found", "ไม่พบข้อมูล")


DATABASE_DOWN = Problem(
    503,
    "database_unavailable",
    "The database is unavailable; try again",
    "ระบบฐานข้อมูลขัดข้องชั่วคราว กรุณาลองใหม่",
    headers={"Retry-After": "5"},
)


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
        case InvalidRoundDates():
            return Problem(
                422,
                "invalid_body",
                "The round dates are not valid",
                "กำหนดการของรอบไม่ถูกต้อง",
                [{"field": "(body)", "reason": str(error)}],
            )
        case SubmissionRefused():
            status = 404 if error.code == "round_not_found" else 409
            return Problem(status, error.code, error.message_en, error.message_th)
        # Unreachable or overloaded: 503, never a 500; nothing was written, every change
        # being one transaction.
        case _ if isinstance(error, DATABASE_UNAVAILABLE):
            return DATABASE_DOWN
    return None


HANDLED = (
    Problem,
    RequestValidationError,
    NotFound,
    IdempotencyKeyReused,
    InvalidRoundDates,
    SubmissionRefused,
    *DATABASE_UNAVAILABLE,
)


def install(app: FastAPI) -> None:
    async def on_error(_: Request, error: Exception) -> JSONResponse:
        problem = as_problem(error)
        if problem is None:
            raise error
        return problem_response(problem)

    for error_class in HANDLED:
        app.add_exception_handler(error_class, on_error)
