"""What the portal reads from intake, on the real database: who the caller is, a center and
its rounds for those who may see it (404 for anyone else), the standards, and each version
of a submission with its report as sent."""

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from services.intake import admin
from tests.integration.test_intake_api import CENTERS, ROUND, Intake, auth, start_intake
from tests.support.isolation import Isolated
from tests.support.samples import submission_body
from tests.support.sign_in import PORTAL_SECRET, signed_in

CONTACT = "somchai@bma.go.th"


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[Intake]:
    async for running in start_intake(isolated, portal_client_secret=PORTAL_SECRET):
        conn = await asyncpg.connect(running.db)
        try:
            first = dataclasses.replace(CENTERS[0], contact_emails=(CONTACT,))
            await admin.register_centers(conn, [first])
        finally:
            await conn.close()
        yield running


async def get(intake: Intake, who: str, path: str) -> tuple[int, object]:
    response = await intake.client.get(path, headers=auth(intake.tokens[who]))
    return response.status_code, response.json()


async def test_me_says_who_the_caller_is(intake: Intake) -> None:
    assert await get(intake, "a", "/v1/me") == (
        200,
        {
            "kind": "center",
            "email": None,
            "expires_at": None,
            "center": {
                "id": "GECC-0001",
                "name_th": "สำนักงานเขตพระนคร",
                "name_en": "Phra Nakhon",
                "office_path": "PMO/BMA/DISTRICT",
                "province": "กรุงเทพมหานคร",
            },
            "office_path": None,
        },
    )
    assert (await get(intake, "bma", "/v1/me"))[1] == {
        "kind": "office",
        "email": None,
        "expires_at": None,
        "center": None,
        "office_path": "PMO/BMA",
    }
    assert (await get(intake, "operator", "/v1/me"))[1] == {
        "kind": "operator",
        "email": None,
        "expires_at": None,
        "center": None,
        "office_path": None,
    }
    isolated = intake.isolated
    session = await signed_in(intake.client, isolated.kafka_bootstrap, isolated.topics, CONTACT)
    intake.tokens["session"] = session["token"]
    status, shown = await get(intake, "session", "/v1/me")
    assert status == 200 and isinstance(shown, dict)
    assert (shown["kind"], shown["email"], shown["center"]["id"]) == (
        "center",
        CONTACT,
        "GECC-0001",
    )
    assert shown["expires_at"].replace("Z", "+00:00") == session["expires_at"].replace(
        "Z", "+00:00"
    )


async def test_a_center_is_read_by_itself_the_offices_above_it_and_operators(
    intake: Intake,
) -> None:
    readers = {
        (who, center): (await get(intake, who, f"/v1/centers/{center}"))[0]
        for who in ("a", "bma", "operator")
        for center in ("GECC-0001", "GECC-0002", "GECC-0003")
    }
    assert readers == {
        ("a", "GECC-0001"): 200,
        ("a", "GECC-0002"): 404,
        ("a", "GECC-0003"): 404,
        ("bma", "GECC-0001"): 200,
        ("bma", "GECC-0002"): 200,
        ("bma", "GECC-0003"): 404,
        ("operator", "GECC-0001"): 200,
        ("operator", "GECC-0002"): 200,
        ("operator", "GECC-0003"): 200,
    }
    assert await get(intake, "a", "/v1/centers/GECC-0001") == (
        200,
        {
            "id": "GECC-0001",
            "name_th": "สำนักงานเขตพระนคร",
            "name_en": "Phra Nakhon",
            "office_path": "PMO/BMA/DISTRICT",
            "province": "กรุงเทพมหานคร",
            "certified_until": None,
        },
    )
    assert (await get(intake, "operator", "/v1/centers/GECC-9999"))[0] == 404
    for who, center in (("a", "GECC-0002"), ("bma", "GECC-0003")):
        assert (await get(intake, who, f"/v1/centers/{center}/rounds"))[0] == 404


async def test_a_centers_rounds_carry_its_state_in_each(intake: Intake) -> None:
    first = await intake.submit("a")
    amended = await intake.submit("a", submission_body(ROUND, respondents=500))
    until = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    granted = await intake.client.post(
        f"/v1/rounds/{ROUND}/extensions",
        json={"center_id": "GECC-0001", "until": until, "reason": "น้ำท่วมสำนักงาน"},
        headers=auth(intake.tokens["operator"]),
    )
    assert first.status_code == amended.status_code == granted.status_code == 201

    status, rounds = await get(intake, "a", "/v1/centers/GECC-0001/rounds")
    assert status == 200 and isinstance(rounds, list)
    all_rounds = (await get(intake, "a", "/v1/rounds"))[1]
    assert [r["round"] for r in rounds] == all_rounds
    this = next(r for r in rounds if r["round"]["id"] == ROUND)
    assert {k: v for k, v in this.items() if k not in ("round", "received_at")} == {
        "submission_id": first.json()["submission_id"],
        "latest_version": 2,
        "receipt_number": amended.json()["receipt_number"],
        "late": False,
        "status": "received",
        "verdict": None,
        "extension_until": until.replace("+00:00", "Z"),
        "satisfaction_source": "center_survey",
        "survey_responses": None,
    }
    assert this["received_at"] == amended.json()["received_at"].replace("+00:00", "Z")
    others = [r for r in rounds if r["round"]["id"] != ROUND]
    assert others and all(
        (r["submission_id"], r["status"], r["late"], r["extension_until"], r["satisfaction_source"])
        == (None,) * 5
        for r in others
    )
    office = await get(intake, "bma", "/v1/centers/GECC-0001/rounds")
    assert office == (200, rounds)


async def test_the_standards_are_read_with_their_areas(intake: Intake) -> None:
    status, listed = await get(intake, "a", "/v1/standards")
    assert status == 200
    assert listed == [
        {
            "id": "gecc-maintenance-2570",
            "version": 1,
            "title_th": "หลักเกณฑ์การรักษามาตรฐานศูนย์ราชการสะดวก (ตัวอย่าง) ปีงบประมาณ 2570",
            "title_en": "GECC maintenance criteria (illustrative), fiscal year 2570",
            "illustrative": True,
        }
    ]
    status, standard = await get(intake, "bma", "/v1/standards/gecc-maintenance-2570")
    assert status == 200 and isinstance(standard, dict)
    assert [q["code"] for q in standard["questions"]] == [f"S{n}" for n in range(1, 9)]
    assert len(standard["items"]) == 24
    assert set(standard["items"][0]) == {
        "code",
        "area",
        "mandatory",
        "weight",
        "title_th",
        "title_en",
    }
    assert [a["code"] for a in standard["areas"]] == ["physical", "quality", "outcome"]
    assert all(a["title_th"] and a["title_en"] for a in standard["areas"])
    assert standard["thresholds"]["minimum_respondents"] == 30
    assert (await get(intake, "a", "/v1/standards/nope-1"))[0] == 404


async def test_each_version_of_a_submission_carries_its_report_as_sent(intake: Intake) -> None:
    bodies = [submission_body(ROUND), submission_body(ROUND, respondents=500)]
    answers = [await intake.submit("a", body) for body in bodies]
    submission_id = answers[0].json()["submission_id"]
    status, shown = await get(intake, "a", f"/v1/submissions/{submission_id}")
    assert status == 200 and isinstance(shown, dict)
    assert [v["version"] for v in shown["versions"]] == [1, 2]
    assert all("report" not in v for v in shown["versions"])  # the list stays light
    for number, body in enumerate(bodies, start=1):
        path = f"/v1/submissions/{submission_id}/versions/{number}"
        status, version = await get(intake, "a", path)
        assert status == 200 and isinstance(version, dict)
        assert (version["version"], version["report"]) == (number, body)
        assert (await get(intake, "b", path))[0] == 404  # another center's
    assert (await get(intake, "a", f"/v1/submissions/{submission_id}/versions/3"))[0] == 404
    own = await get(intake, "a", f"/v1/rounds/{ROUND}/submission")
    assert own == (200, shown)


async def test_a_persons_submission_is_audited_with_their_address(intake: Intake) -> None:
    isolated = intake.isolated
    session = await signed_in(intake.client, isolated.kafka_bootstrap, isolated.topics, CONTACT)
    intake.tokens["session"] = session["token"]
    answer = await intake.submit("session")
    assert answer.status_code == 201, answer.text
    logged = await intake.fetch("SELECT actor FROM audit_log WHERE action = 'submission.create'")
    assert [entry["actor"] for entry in logged] == [f"account:{CONTACT}"]
