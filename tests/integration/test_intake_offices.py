"""What the portal's office and operator pages read from intake, on the real database:
completeness of any office of the caller's subtree (levels to a depth, paged lists, CSV and
XLSX of the same rows), offices by name, the audit log searched and paged, accounts over
HTTP, and a round's dates changed with a reason. An office outside the caller's subtree is
404, a center 403, an office on an operator's route 403."""

import csv
import dataclasses
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from openpyxl import load_workbook

from services.intake import admin
from services.intake.domain.offices import Office
from services.intake.handlers import offices
from tests.integration.test_intake_api import CENTERS, ROUND, Intake, auth, set_dates, start_intake
from tests.support.isolation import Isolated
from tests.support.sign_in import PORTAL_SECRET, signed_in

URL = f"/v1/rounds/{ROUND}/completeness"
CONTACT = "saraban@dol.go.th"
NAMES = [
    Office("PMO", "สำนักนายกรัฐมนตรี", "Office of the Prime Minister"),
    Office("PMO/BMA", "กรุงเทพมหานคร", "Bangkok Metropolitan Administration"),
    Office("PMO/BMA/DISTRICT", "สำนักงานเขต", "District offices"),
    Office("PMO/MOI", "กระทรวงมหาดไทย", "Ministry of Interior"),
]
REASONS = [
    {"code": "satisfaction_low", "detail": {}, "text_th": "ความพึงพอใจต่ำ", "text_en": "Low"},
]


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[Intake]:
    """Three centers (two under PMO/BMA/DISTRICT, one under PMO/MOI/DOL): GECC-0001 reported
    on time (not scored yet), GECC-0002 late and at risk; GECC-0003 did not report. Offices
    named but PMO/MOI/DOL; an office token of PMO/MOI besides the usual ones."""
    async for running in start_intake(isolated, portal_client_secret=PORTAL_SECRET):
        await running.submit("a")
        await set_dates(running.db, ROUND, -9, -1, 3)
        late = (await running.submit("b")).json()["submission_id"]
        conn = await asyncpg.connect(running.db)
        try:
            await conn.execute(
                "UPDATE submission_versions SET verdict = 'at_risk', status = 'scored',"
                " scorecard = $2::text::jsonb WHERE submission_id = $1",
                late,
                json.dumps({"reasons": REASONS}),
            )
            await offices.import_offices(conn, NAMES, "test")
            moi = await admin.issue_token(conn, "office", office_path="PMO/MOI")
            running.tokens["moi"] = moi.token
            await admin.register_centers(
                conn, [dataclasses.replace(CENTERS[2], contact_emails=(CONTACT,))]
            )
        finally:
            await conn.close()
        yield running


async def read(intake: Intake, who: str, path: str, **params: Any) -> tuple[int, Any]:
    response = await intake.client.get(path, params=params, headers=auth(intake.tokens[who]))
    is_json = response.headers["content-type"].endswith("json")
    return response.status_code, response.json() if is_json else response.content


def cell_text(value: object) -> str:
    """A cell as text, numbers as numbers (XLSX gives 100 back for 100.0)."""
    if value is None:
        return ""
    try:
        return repr(float(str(value)))
    except ValueError:
        return str(value)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["center_id"] for row in rows]


async def test_an_office_drills_down_with_names_lists_and_totals(intake: Intake) -> None:
    status, found = await read(
        intake, "operator", URL, office="PMO/BMA", depth=0, lists="missing,late,follow_up,centers"
    )
    assert status == 200
    assert (found["scope"], found["office"]) == ("PMO", "PMO/BMA")
    [level] = found["levels"]
    assert level == {
        "office_path": "PMO/BMA",
        "depth": 1,
        "name_th": "กรุงเทพมหานคร",
        "name_en": "Bangkok Metropolitan Administration",
        "expected": 2,
        "submitted": 2,
        "on_time": 1,
        "late": 1,
        "missing": 0,
        "completeness_percent": 100.0,
        "verdicts": {"maintained": 0, "at_risk": 1, "not_maintained": 0, "pending": 1},
        "maintained": 0,
        "at_risk": 1,
        "not_maintained": 0,
        "pending": 1,
    }
    assert (found["missing"], ids(found["late"]), ids(found["centers"])) == (
        [],
        ["GECC-0002"],
        ["GECC-0001", "GECC-0002"],
    )
    [follow_up] = found["follow_up"]
    assert follow_up["center_id"] == follow_up["code"] == "GECC-0002"
    assert (follow_up["submitted"], follow_up["late"], follow_up["verdict"]) == (
        True,
        True,
        "at_risk",
    )
    assert follow_up["reasons"] == [
        {"code": "satisfaction_low", "text_th": "ความพึงพอใจต่ำ", "text_en": "Low"}
    ]
    assert "reasons" not in found["late"][0]
    assert found["totals"] == {"missing": 0, "late": 1, "follow_up": 1, "centers": 2}

    status, whole = await read(intake, "operator", URL, depth=1)
    assert [(lv["office_path"], lv["depth"], lv["expected"]) for lv in whole["levels"]] == [
        ("PMO", 0, 3),
        ("PMO/BMA", 1, 2),
        ("PMO/MOI", 1, 1),
    ]
    assert ids(whole["missing"]) == ["GECC-0003"] and whole["totals"] == {"missing": 1}
    assert "late" not in whole
    deepest = (await read(intake, "operator", URL))[1]["levels"]
    unnamed = next(lv for lv in deepest if lv["office_path"] == "PMO/MOI/DOL")
    assert (unnamed["name_th"], unnamed["name_en"]) == (None, None)

    status, bare = await read(intake, "operator", URL, lists="")
    assert status == 200 and set(bare) == {"round_id", "scope", "office", "levels", "totals"}
    page = (await read(intake, "operator", URL, lists="centers", limit=1, offset=1))[1]
    assert ids(page["centers"]) == ["GECC-0002"] and page["totals"] == {"centers": 3}
    status, wrong = await read(intake, "operator", URL, lists="missing,everything")
    assert status == 422 and wrong["errors"][0]["field"] == "lists"


async def test_completeness_answers_only_within_the_callers_subtree(intake: Intake) -> None:
    assert (await read(intake, "bma", URL))[1]["office"] == "PMO/BMA"
    assert (await read(intake, "bma", URL, office="PMO/BMA/DISTRICT"))[0] == 200
    for office in (
        "PMO",
        "PMO/MOI",
        "PMO/BMAX",
        "PMO/BMA/HEALTH",
        "nonsense",
        "PMO/BMA/%",
        "PMO/BMA/",
    ):
        status, body = await read(intake, "bma", URL, office=office)
        assert (status, body["code"]) == (404, "not_found"), office
    assert (await read(intake, "moi", URL))[1]["missing"][0]["center_id"] == "GECC-0003"
    assert (await read(intake, "operator", URL, office="PMO/BMA/HEALTH"))[0] == 404
    assert (await read(intake, "operator", URL, office="PMO/_MA"))[0] == 404
    assert (await read(intake, "a", URL))[0] == 403
    assert (await read(intake, "a", URL, format="csv"))[0] == 403


async def test_csv_and_xlsx_hold_the_same_rows_and_every_row(intake: Intake) -> None:
    for view in ("levels", "missing", "late", "follow_up", "centers"):
        status, text = await read(intake, "operator", URL, format="csv", view=view, limit=1)
        assert status == 200 and text.startswith(b"\xef\xbb\xbf")
        table = list(csv.reader(io.StringIO(text.decode("utf-8-sig"), newline="")))
        response = await intake.client.get(
            URL, params={"format": "xlsx", "view": view}, headers=auth(intake.tokens["operator"])
        )
        assert response.headers["content-disposition"] == (
            f'attachment; filename="{ROUND}-PMO-{view}.xlsx"'
        )
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert sheet is not None
        cells = [[cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        assert cells == [[cell_text(v) for v in row] for row in table], view
    centers = (await read(intake, "operator", URL, format="csv", view="centers"))[1]
    assert len(centers.decode("utf-8-sig").splitlines()) == 4  # header and all 3, no paging
    follow_up = (await read(intake, "bma", URL, format="csv", view="follow_up"))[1]
    header, row = csv.reader(io.StringIO(follow_up.decode("utf-8-sig"), newline=""))
    assert dict(zip(header, row, strict=True))["reasons_th"] == "ความพึงพอใจต่ำ"
    response = await intake.client.get(
        URL,
        params={"format": "csv", "office": "PMO/BMA/DISTRICT"},
        headers=auth(intake.tokens["bma"]),
    )
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{ROUND}-PMO_BMA_DISTRICT-levels.csv"'
    )


async def test_an_office_with_its_names_and_the_offices_below(intake: Intake) -> None:
    status, top = await read(intake, "operator", "/v1/offices/PMO")
    assert status == 200
    assert top == {
        "office_path": "PMO",
        "name_th": "สำนักนายกรัฐมนตรี",
        "name_en": "Office of the Prime Minister",
        "parent": None,
        "children": [
            {
                "office_path": "PMO/BMA",
                "name_th": "กรุงเทพมหานคร",
                "name_en": "Bangkok Metropolitan Administration",
                "centers": 2,
            },
            {
                "office_path": "PMO/MOI",
                "name_th": "กระทรวงมหาดไทย",
                "name_en": "Ministry of Interior",
                "centers": 1,
            },
        ],
    }
    status, bma = await read(intake, "bma", "/v1/offices/PMO/BMA")
    assert (status, bma["parent"], [c["office_path"] for c in bma["children"]]) == (
        200,
        "PMO",
        ["PMO/BMA/DISTRICT"],
    )
    dol = (await read(intake, "moi", "/v1/offices/PMO/MOI/DOL"))[1]
    assert (dol["name_th"], dol["children"]) == (None, [])
    for who, path in (
        ("bma", "PMO"),
        ("bma", "PMO/MOI"),
        ("operator", "PMO/NOPE"),
        ("operator", "x"),
    ):
        assert (await read(intake, who, f"/v1/offices/{path}"))[0] == 404, (who, path)
    assert (await read(intake, "a", "/v1/offices/PMO/BMA"))[0] == 403


async def test_dates_change_with_a_reason_until_close_and_the_audit_log_finds_it(
    intake: Intake,
) -> None:
    operator = auth(intake.tokens["operator"])
    later = (datetime.now(UTC) + timedelta(days=5)).isoformat()
    changed = await intake.client.patch(
        f"/v1/rounds/{ROUND}", json={"closes_at": later, "reason": "น้ำท่วม"}, headers=operator
    )
    assert changed.status_code == 200, changed.text
    for center in ("GECC-0001", "GECC-0003"):
        granted = await intake.client.post(
            f"/v1/rounds/{ROUND}/extensions",
            json={"center_id": center, "until": later, "reason": "ไฟฟ้าดับ"},
            headers=operator,
        )
        assert granted.status_code == 201
    status, entries = await read(intake, "operator", "/v1/audit", actor="operator:")
    assert status == 200
    assert [e["action"] for e in entries] == [
        "extension.grant",
        "extension.grant",
        "round.change_dates",
    ]
    assert entries[2]["details"]["reason"] == "น้ำท่วม"
    assert set(entries[0]) == {"id", "at", "actor", "action", "target", "details", "remote_addr"}
    newest, *_ = entries
    older = (
        await read(intake, "operator", "/v1/audit", actor="operator:", before=newest["id"], limit=1)
    )[1]
    assert [e["id"] for e in older] == [entries[1]["id"]]
    since = (
        await read(intake, "operator", "/v1/audit", since=entries[1]["at"], actor="operator:")
    )[1]
    assert [e["id"] for e in since] == [e["id"] for e in entries[:2]]
    until = (
        await read(intake, "operator", "/v1/audit", until=entries[1]["at"], actor="operator:")
    )[1]
    assert [e["id"] for e in until] == [entries[2]["id"]]
    assert (await read(intake, "operator", "/v1/audit", actor="nobody"))[1] == []
    assert (await read(intake, "operator", "/v1/audit", since="2027-01-01T00:00:00"))[0] == 422
    assert (await read(intake, "bma", "/v1/audit"))[0] == 403
    assert (await read(intake, "a", "/v1/audit"))[0] == 403


async def test_operators_import_search_and_disable_accounts(intake: Intake) -> None:
    operator = auth(intake.tokens["operator"])
    good = (
        "email,role,scope\r\nhead@bma.go.th,office,PMO/BMA\r\nops@opdc.go.th,operator,operators\r\n"
    )
    imported = await intake.client.post(
        "/v1/accounts/import",
        content=good.encode(),
        headers={**operator, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {"rows": 2, "accounts_added": 2, "memberships_added": 2}
    bad = "email,role,scope\r\nnew@bma.go.th,office,PMO/BMA\r\nnot-an-address,office,PMO/XYZ\r\n"
    refused = await intake.client.post(
        "/v1/accounts/import",
        content=bad.encode(),
        headers={**operator, "Content-Type": "text/csv"},
    )
    assert refused.status_code == 422
    errors = refused.json()["errors"]
    assert {(e["line"], e["column"]) for e in errors} == {(3, "email")}
    assert all(e["message"] and e["message_th"] for e in errors)
    assert (await read(intake, "operator", "/v1/accounts", q="new@"))[1] == {
        "total": 0,
        "accounts": [],
    }

    status, offices_page = await read(intake, "operator", "/v1/accounts", kind="office")
    assert status == 200
    assert offices_page == {
        "total": 1,
        "accounts": [
            {
                "email": "head@bma.go.th",
                "kind": "office",
                "disabled": False,
                "memberships": [
                    {
                        "scope": "PMO/BMA",
                        "label_th": "หน่วยงานต้นสังกัด PMO/BMA",
                        "label_en": "Parent office PMO/BMA",
                    }
                ],
            }
        ],
    }
    found = (await read(intake, "operator", "/v1/accounts", q="DOL.GO", limit=1))[1]
    assert found["total"] == 1 and found["accounts"][0]["kind"] == "center"
    assert found["accounts"][0]["memberships"][0]["scope"] == "GECC-0003"

    isolated = intake.isolated
    session = await signed_in(intake.client, isolated.kafka_bootstrap, isolated.topics, CONTACT)
    assert (await intake.client.get("/v1/me", headers=auth(session["token"]))).status_code == 200
    short = await intake.client.post(
        f"/v1/accounts/{CONTACT}/disable", json={"reason": "x"}, headers=operator
    )
    assert short.status_code == 422
    disabled = await intake.client.post(
        f"/v1/accounts/{CONTACT.upper()}/disable", json={"reason": "ย้ายหน่วยงาน"}, headers=operator
    )
    assert disabled.status_code == 200, disabled.text
    assert (disabled.json()["email"], disabled.json()["disabled"]) == (CONTACT, True)
    assert (await intake.client.get("/v1/me", headers=auth(session["token"]))).status_code == 401
    [entry] = (await read(intake, "operator", "/v1/audit", target=f"account:{CONTACT}"))[1][:1]
    assert (entry["action"], entry["details"]["reason"]) == ("account.disable", "ย้ายหน่วยงาน")
    assert entry["details"]["sessions_ended"] == 1
    unknown = await intake.client.post(
        "/v1/accounts/nobody@x.go.th/disable", json={"reason": "ย้ายหน่วยงาน"}, headers=operator
    )
    assert unknown.status_code == 404

    for who in ("bma", "a"):
        headers = auth(intake.tokens[who])
        assert (await intake.client.get("/v1/accounts", headers=headers)).status_code == 403
        posted = await intake.client.post(
            "/v1/accounts/import",
            content=good.encode(),
            headers={**headers, "Content-Type": "text/csv"},
        )
        assert posted.status_code == 403
        assert (
            await intake.client.post(
                f"/v1/accounts/{CONTACT}/disable", json={"reason": "ย้ายหน่วยงาน"}, headers=headers
            )
        ).status_code == 403


async def test_an_accounts_file_over_5_mib_is_refused(intake: Intake) -> None:
    big = b"email,role,scope\r\n" + b"x" * (5 * 1024 * 1024)
    response = await intake.client.post(
        "/v1/accounts/import",
        content=big,
        headers={**auth(intake.tokens["operator"]), "Content-Type": "text/csv"},
    )
    assert response.status_code == 413
