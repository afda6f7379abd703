"""GET /v1/rounds/{id}/submissions/summary: what tools (the demo, the benchmark) read of a
round's submissions, over HTTP rather than from intake's tables."""

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import pytest

from services.intake.app import create_app
from services.intake.handlers import submissions
from services.intake.settings import IntakeSettings
from shared.database import connect
from shared.events import new_event
from tests.integration.test_intake_api import ROUND, Intake, auth, set_dates, start_intake
from tests.support.isolation import Isolated
from tests.support.samples import received_event, scored_event, submission_body

SUMMARY = f"/v1/rounds/{ROUND}/submissions/summary"


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[Intake]:
    async for running in start_intake(isolated):
        yield running


async def summary(intake: Intake) -> dict[str, Any]:
    response = await intake.client.get(SUMMARY, headers=auth(intake.tokens["operator"]))
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def score(intake: Intake, center_id: str, submission_id: str, version: int) -> str:
    """Record the scorer's result for one version, as intake takes it from Kafka."""
    received = received_event(center_id, version).data.model_copy(
        update={"submission_id": UUID(submission_id)}
    )
    scored = scored_event(received)
    conn = await connect(intake.db)
    try:
        await submissions.note_score(conn, new_event(scored, "test"))
    finally:
        await conn.close()
    return scored.verdict


async def test_counts_late_amended_verdicts_and_scoring_lag(intake: Intake) -> None:
    nothing = await summary(intake)
    assert nothing == {
        "round_id": ROUND,
        "submitted": 0,
        "late": 0,
        "amended": 0,
        "verdicts": {"maintained": 0, "at_risk": 0, "not_maintained": 0, "pending": 0},
        "versions": 0,
        "versions_scored": 0,
        "scoring_lag": None,
    }
    first = (await intake.submit("a")).json()
    await intake.submit("a", submission_body(ROUND, respondents=500))
    await set_dates(intake.db, ROUND, -9, -1, 3)
    await intake.submit("b")  # late; c never reports

    received = await summary(intake)
    assert (received["submitted"], received["late"], received["amended"]) == (2, 1, 1)
    assert (received["versions"], received["versions_scored"]) == (3, 0)
    assert received["verdicts"]["pending"] == 2

    # A's first version scored: its latest (the amendment) is still pending.
    await score(intake, "GECC-0001", first["submission_id"], 1)
    older_scored = await summary(intake)
    assert (older_scored["versions_scored"], older_scored["verdicts"]["pending"]) == (1, 2)
    lag = older_scored["scoring_lag"]
    assert 0 <= lag["p50_seconds"] <= lag["p99_seconds"] <= lag["max_seconds"] < 60

    verdict = await score(intake, "GECC-0001", first["submission_id"], 2)
    latest_scored = await summary(intake)
    assert latest_scored["versions_scored"] == 2
    assert latest_scored["verdicts"][verdict] == 1
    assert latest_scored["verdicts"]["pending"] == 1


async def test_only_operators_read_it_and_an_unknown_round_is_404(intake: Intake) -> None:
    for who in ("a", "bma"):
        refused = await intake.client.get(SUMMARY, headers=auth(intake.tokens[who]))
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden"), who
    assert (await intake.client.get(SUMMARY)).status_code == 401
    unknown = await intake.client.get(
        "/v1/rounds/FY1999-H1/submissions/summary", headers=auth(intake.tokens["operator"])
    )
    assert unknown.status_code == 404


def test_the_openapi_documents_it_with_its_errors() -> None:
    operation = create_app(IntakeSettings()).openapi()["paths"][
        "/v1/rounds/{round_id}/submissions/summary"
    ]["get"]
    assert {"401", "403", "404", "503"} <= set(operation["responses"])
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RoundSubmissionsView"
    }
