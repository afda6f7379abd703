"""A report taking its satisfaction figures from the citizen survey, through the running
services on the real broker and database (spec §11): the survey's tally on its topic (as
the tallier publishes it), intake refusing the claim until it has seen that tally, then the
score, the result e-mail and the export's copy saying where the figures come from."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest

from services.intake import admin
from services.intake.domain.centers import Center
from shared.events import SurveyTally, new_event
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import send
from tests.support.polling import eventually
from tests.support.samples import citizen_survey, submission_body
from tests.support.services import running_services, wait_for_consumers

ROUND = "FY2570-H1"
CENTER = "GECC-0001"
CONTACT = "gecc-0001@example.go.th"


@pytest.fixture
def system(isolated: Isolated, tmp_path: Path) -> Iterator[dict[str, str]]:
    with running_services(isolated, tmp_path / "logs") as processes:
        yield {name: process.url for name, process in processes.items()}


async def center_token(isolated: Isolated) -> str:
    conn = await asyncpg.connect(isolated.service_url("intake"))
    now = datetime.now(UTC)
    try:
        await admin.register_centers(
            conn,
            [
                Center(
                    CENTER,
                    "ศูนย์ราชการสะดวก สำนักงานเขตพระนคร",
                    "Phra Nakhon",
                    "PMO/BMA/DISTRICT",
                    "กรุงเทพมหานคร",
                    contact_emails=(CONTACT,),
                )
            ],
        )
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=1), now + timedelta(days=5), now + timedelta(days=9)
        )
        return (await admin.issue_token(conn, "center", center_id=CENTER)).token
    finally:
        await conn.close()


async def one(isolated: Isolated, service: str, sql: str) -> Any:
    conn = await asyncpg.connect(isolated.service_url(service))
    try:
        return await conn.fetchrow(sql)
    finally:
        await conn.close()


async def test_a_report_from_the_citizen_survey_says_so_everywhere(
    isolated: Isolated, system: dict[str, str]
) -> None:
    await wait_for_consumers(system)
    token = await center_token(isolated)
    report = submission_body(ROUND, respondents=412, source=citizen_survey(412, 57))
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())}
    async with httpx.AsyncClient(base_url=system["intake"]) as intake:
        refused = await intake.post("/v1/submissions", json=report, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "satisfaction.source.responses"

        tally = SurveyTally(
            center_id=CENTER,
            round_id=ROUND,
            standard="gecc-maintenance-2570",
            responses=412,
            counts={},
            revision=57,
            last_response_at=datetime.now(UTC),
            tallied_at=datetime.now(UTC),
        )
        await send(
            isolated.kafka_bootstrap,
            isolated.topics(Topic.SURVEY_TALLY),
            [(f"{CENTER}/{ROUND}".encode(), new_event(tally, "survey").model_dump_json().encode())],
        )

        async def submitted() -> httpx.Response:
            return await intake.post("/v1/submissions", json=report, headers=headers)

        receipt = (await eventually(submitted, lambda r: r.status_code == 201)).json()

        async def version() -> dict[str, Any]:
            path = f"/v1/submissions/{receipt['submission_id']}"
            found = await intake.get(path, headers={"Authorization": f"Bearer {token}"})
            return dict(found.json()["versions"][0])

        scored = await eventually(version, lambda v: v["status"] == "scored")
    assert (scored["satisfaction_source"], scored["survey_responses"]) == ("citizen_survey", 412)
    assert scored["scorecard"]["satisfaction_source"] == {
        "kind": "citizen_survey",
        "responses": 412,
    }

    async def result_mail() -> Any:
        return await one(isolated, "notifier", "SELECT body FROM deliveries WHERE kind = 'result'")

    mail = await eventually(result_mail, lambda row: row is not None)
    assert "แบบสำรวจความพึงพอใจของประชาชนผ่านระบบ ผู้ตอบ 412 คน" in mail["body"]
    assert "the citizen survey, 412 responses" in mail["body"]

    async def exported() -> Any:
        return await one(
            isolated,
            "export",
            "SELECT satisfaction_source, survey_responses FROM submission_versions",
        )

    kept = await eventually(exported, lambda row: row is not None)
    assert tuple(kept) == ("citizen_survey", 412)
