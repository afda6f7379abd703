"""Schemathesis against intake as it runs: generated requests for every operation of its
OpenAPI document, with an operator's and a center's token and the portal's credential,
find no 5xx and no answer that differs from the document (status, content type, body
schema, headers, Allow).

Not checked: that every schema-valid request is accepted. Some rules are not JSON Schema
(an extension may not end in the past, a report must fit its standard): such requests get
422 naming the field, as documented.

Python 3.11.7's ``ast.parse`` can fail inside Hypothesis while it describes a strategy
("AST constructor recursion depth mismatch", a CPython bug fixed in later 3.11 releases):
a run that stopped only on that error of the tool is run again."""

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.infrastructure import Infrastructure
from tests.support.intake_process import UNLIMITED, RunningIntake, intake_process

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "allow_header_conformance",
        "negative_data_rejection",
        "missing_required_header",
        "unsupported_method",
        "ignored_auth",
    ]
)


@pytest.fixture
async def intake(infrastructure: Infrastructure, tmp_path: Path) -> AsyncIterator[RunningIntake]:
    async with intake_process(infrastructure, tmp_path, UNLIMITED) as running:
        yield running


TOOL_FAULT = "AST constructor recursion depth mismatch"


@pytest.mark.parametrize("who", ["operator", "a", "portal"])
def test_schemathesis_finds_no_error_and_no_difference(intake: RunningIntake, who: str) -> None:
    for _ in range(3):
        run = schemathesis(intake, who)
        if run.returncode == 0 or TOOL_FAULT not in run.stdout or "Failures:" in run.stdout:
            break
    report = run.stdout[-6000:]
    assert run.returncode == 0, report
    assert " passed" in report and "failure" not in report, report


def schemathesis(intake: RunningIntake, who: str) -> subprocess.CompletedProcess[str]:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is a dev dependency: run `make install`"
    return subprocess.run(
        [
            st,
            "run",
            f"{intake.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {intake.tokens[who]}",
            "--checks",
            CHECKS,
            "--max-time",
            "30",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
