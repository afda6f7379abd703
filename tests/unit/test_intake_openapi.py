"""Intake's OpenAPI document: every reference resolves, every /v1 operation documents the
errors it can return as problem+json, and the submission body is the shared model's."""

import json
import re
from typing import Any

import pytest

from services.intake.app import create_app
from services.intake.entrypoints.http import SubmissionHeaders
from services.intake.entrypoints.problems import as_problem
from services.intake.handlers.submissions import RoundChanging
from services.intake.settings import IntakeSettings
from shared.submission import SubmissionBody


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    document: dict[str, Any] = create_app(IntakeSettings()).openapi()
    return document


def test_every_reference_resolves(spec: dict[str, Any]) -> None:
    components = spec["components"]["schemas"]
    references = set(re.findall(r'"\$ref": "([^"]+)"', json.dumps(spec)))
    assert references
    for reference in references:
        prefix, _, name = reference.rpartition("/")
        assert prefix == "#/components/schemas" and name in components, reference


def test_every_operation_documents_its_errors_as_problems(spec: dict[str, Any]) -> None:
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("400", "401", "403", "413", "422", "429", "503"):
                assert status in responses, f"{method.upper()} {path} lacks {status}"
            for status, response in responses.items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        f"{method.upper()} {path} {status}"
                    )


def test_the_submission_route_is_documented_from_its_models(spec: dict[str, Any]) -> None:
    submit = spec["paths"]["/v1/submissions"]["post"]
    assert submit["parameters"] == [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": True,
            "description": SubmissionHeaders.model_fields["idempotency_key"].description,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
        }
    ]
    assert submit["security"] == [{"HTTPBearer": []}]
    body = submit["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/SubmissionBody"}
    assert spec["components"]["schemas"]["SubmissionBody"]["required"] == list(
        SubmissionBody.model_json_schema()["required"]
    )


def test_the_sign_in_routes_document_their_own_answers(spec: dict[str, Any]) -> None:
    opened = spec["paths"]["/v1/sessions"]["post"]["responses"]
    assert set(opened) >= {"201", "403", "409", "410", "422"}
    choice = opened["409"]["content"]["application/problem+json"]["schema"]
    assert choice == {"$ref": "#/components/schemas/ScopeChoice"}
    assert "scopes" in spec["components"]["schemas"]["ScopeChoice"]["required"]
    asked = spec["paths"]["/v1/sign-in-requests"]["post"]["responses"]
    assert set(asked) >= {"202", "403", "422", "429"}


def test_a_round_whose_dates_keep_changing_is_a_503_to_retry() -> None:
    problem = as_problem(RoundChanging("FY2570-H1"))
    assert problem is not None
    assert (problem.status, problem.code, problem.headers) == (
        503,
        "round_changing",
        {"Retry-After": "1"},
    )
