"""Intake's OpenAPI document as its routes really answer: every error status each operation
can return, as ``application/problem+json``, and the models of bodies a route reads itself,
all under ``#/components/schemas`` (no reference left dangling)."""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from services.intake.entrypoints.problems import PROBLEM, ProblemDetails

COMPONENT = "#/components/schemas/{model}"

STATUS_MEANINGS = {
    400: "More than one Authorization or Idempotency-Key header, or a missing Idempotency-Key",
    401: "No valid API token",
    403: "The credential's kind may not do this (the portal's: anything but signing in)",
    404: "No such thing, or not the caller's to see",
    408: "The request arrived too slowly",
    409: "The round does not accept this now (not open, closed)",
    411: "No Content-Length",
    410: "The sign-in link was used already or has expired (or never existed)",
    413: "The request body is larger than 1 MiB",
    415: "The content is not of an allowed type",
    422: "A field is wrong: the problem's errors name each field and why",
    429: "Too many requests: wait Retry-After seconds",
    503: "The database is unavailable: retry after Retry-After seconds",
}
# What any /v1 operation can answer before its own code runs.
EVERY_OPERATION = (400, 401, 403, 408, 413, 422, 429, 503)


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a router or route: these statuses and every operation's."""
    return {
        status: problem(STATUS_MEANINGS[status]) for status in sorted({*EVERY_OPERATION, *statuses})
    }


def problem(description: str, model: type[BaseModel] = ProblemDetails) -> dict[str, Any]:
    """One error answer: ``model`` (ProblemDetails or a kind of problem with more members;
    give it to ``document``)."""
    return {"description": description, "content": {PROBLEM: {"schema": schema_of(model)}}}


def schema_of(model: type[BaseModel]) -> dict[str, Any]:
    return {"$ref": COMPONENT.format(model=model.__name__)}


def operation(body: type[BaseModel], headers: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its body and headers itself: the body as
    ``body`` (added to the components by ``document``), each field of ``headers`` a header
    parameter, and the bearer token every /v1 route needs."""
    schema = headers.model_json_schema()
    required = set(schema.get("required", ()))
    parameters = [
        {
            "name": name,
            "in": "header",
            "required": name in required,
            "description": field.pop("description", ""),
            "schema": {key: value for key, value in field.items() if key != "title"},
        }
        for name, field in schema["properties"].items()
    ]
    return {
        "parameters": parameters,
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema_of(body)}},
        },
        "security": [{"HTTPBearer": []}],
    }


def document(app: FastAPI, *models: type[BaseModel]) -> None:
    """Add ``models`` (and ProblemDetails) with everything they refer to to the app's
    components."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = generate()
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        everything: tuple[type[BaseModel], ...] = (ProblemDetails, *models)
        for model in everything:
            schema = model.model_json_schema(ref_template=COMPONENT)
            components.update(schema.pop("$defs", {}))
            components[model.__name__] = schema
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
