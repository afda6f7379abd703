"""The OPS/PMO operators' pages on the portal's real database, with intake replaced by the
hand-written fake of tests/support/fake_intake_operators.py: round dates with a reason and
refused after close, extensions, exports, the audit log, accounts; operators only."""

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import unescape

import httpx
import pytest

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from shared.thai import BANGKOK, thai_datetime
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_operators import CLOSED_ROUND, FakeOperatorsIntake
from tests.support.isolation import Isolated

OPERATOR = "ops@opdc.go.th"
OFFICE = "bma@bangkok.go.th"
CENTER = "saraban@phranakhon.go.th"
CENTERS = {
    "GECC-0001": {
        "id": "GECC-0001",
        "name_th": "สำนักงานเขตพระนคร",
        "name_en": "Phra Nakhon District Office",
        "office_path": "PMO/BMA/DISTRICT",
        "province": "กรุงเทพมหานคร",
    },
}


@dataclass
class Portal:
    client: httpx.AsyncClient
    intake: FakeOperatorsIntake

    async def csrf(self, path: str) -> str:
        page = await self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, f"no form token on {path}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    async def sign_in(self, email: str) -> None:
        code = self.intake.link_for(email)
        token = await self.csrf(f"/sign-in/{code}")
        answer = await self.client.post(f"/sign-in/{code}", data={"csrf_token": token})
        assert answer.status_code == 303, answer.text[:300]

    async def post(self, path: str, **fields: str) -> httpx.Response:
        """The form of ``path`` posted with its token."""
        token = await self.csrf(path)
        return await self.client.post(path, data={"csrf_token": token, **fields})


@pytest.fixture
async def portal(isolated: Isolated) -> AsyncIterator[Portal]:
    settings = PortalSettings(
        database_url=isolated.service_url("portal"), public_url="http://127.0.0.1:8084"
    )
    app = create_app(settings)
    fake = FakeOperatorsIntake(
        centers=CENTERS,
        accounts={CENTER: "GECC-0001"},
        people={OPERATOR: ("operator", "operators"), OFFICE: ("office", "PMO/BMA")},
    )
    async with app.router.lifespan_context(app):
        app.state.intake = fake
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield Portal(client, fake)


def text(page: httpx.Response) -> str:
    """The page's words without its tags."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page.text)))


def dates_form(round_row: dict[str, datetime], **changes: str) -> dict[str, str]:
    fields = {}
    for name in ("opens_at", "due_at", "closes_at"):
        moment = round_row[name].astimezone(BANGKOK)
        fields[f"{name}-day"] = moment.date().isoformat()
        fields[f"{name}-time"] = f"{moment:%H:%M}"
    return {**fields, **changes}


PAGES = [
    "/operator/rounds",
    f"/operator/rounds/{ROUND}",
    f"/operator/rounds/{ROUND}/extensions",
    f"/operator/rounds/{ROUND}/exports",
    "/operator/audit",
    "/operator/accounts",
    "/operator/accounts/import",
    f"/operator/accounts/disable?email={CENTER}",
]


async def test_every_operator_page_answers_operators_only(portal: Portal) -> None:
    for path in PAGES:
        anonymous = await portal.client.get(path)
        assert anonymous.status_code == 303 and "/sign-in" in anonymous.headers["location"]
    await portal.sign_in(CENTER)
    for path in PAGES:
        page = await portal.client.get(path)
        assert page.status_code == 404, path
        assert "ผู้ดูแลระบบ" not in page.text  # no operator nav for a center
    portal.client.cookies.clear()
    await portal.sign_in(OFFICE)
    for path in PAGES:
        page = await portal.client.get(path)
        assert page.status_code == 403, path
        assert "ไม่มีสิทธิ์เข้าถึงหน้านี้" in page.text
    # An office cannot post either (the form token is not the point: the kind is).
    refused = await portal.client.post(f"/operator/rounds/{ROUND}/exports", data={})
    assert refused.status_code == 403 and portal.intake.export_rows[ROUND]["requests"] == []
    portal.client.cookies.clear()
    await portal.sign_in(OPERATOR)
    for path in PAGES:
        page = await portal.client.get(path)
        assert page.status_code == 200, (path, page.text[:400])
        assert 'href="/operator/audit"' in page.text  # the operator's nav


async def test_rounds_list_each_round_with_its_state(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    page = await portal.client.get("/operator/rounds")
    states = re.findall(r'class="status status--window-(\w+)">([^<]+)<', page.text)
    assert states == [("open", "เปิดรับรายงาน"), ("closed", "ปิดรับรายงานแล้ว")]  # newest first
    opens = portal.intake.round_rows[ROUND]["opens_at"]
    assert thai_datetime(opens) in page.text  # Buddhist-Era, Bangkok time
    assert f'href="/office/{ROUND}/PMO"' in page.text


async def test_a_date_change_needs_a_reason_and_is_audited(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    row = portal.intake.round_rows[ROUND]
    due = row["due_at"]
    path = f"/operator/rounds/{ROUND}"
    token = await portal.csrf(path)
    fields = dates_form(row, **{"due_at-time": "16:30"})
    answer = await portal.client.post(path, data={"csrf_token": token, **fields, "reason": ""})
    assert answer.status_code == 422
    assert "โปรดระบุเหตุผล" in answer.text and 'id="reason-error"' in answer.text
    assert 'value="16:30"' in answer.text  # what was typed is kept
    assert row["due_at"] == due and portal.intake.audit_rows == []
    reason = "ขยายกำหนดส่งตามหนังสือสั่งการ"
    answer = await portal.client.post(path, data={"csrf_token": token, **fields, "reason": reason})
    assert answer.status_code == 303 and answer.headers["location"].endswith("dates_changed")
    assert row["due_at"].astimezone(BANGKOK).strftime("%H:%M") == "16:30"
    entry = portal.intake.audit_rows[-1]
    assert entry["actor"] == OPERATOR and entry["details"]["reason"] == reason
    after = await portal.client.get(answer.headers["location"])
    assert "บันทึกกำหนดการใหม่ของรอบแล้ว" in after.text and "16:30" in after.text


async def test_a_closed_round_refuses_with_intakes_message_next_to_the_dates(
    portal: Portal,
) -> None:
    await portal.sign_in(OPERATOR)
    row = portal.intake.round_rows[CLOSED_ROUND]
    path = f"/operator/rounds/{CLOSED_ROUND}"
    token = await portal.csrf(path)
    fields = dates_form(row, **{"closes_at-time": "23:00"}, reason="เปิดรอบให้ส่งเพิ่ม")
    answer = await portal.client.post(path, data={"csrf_token": token, **fields})
    assert answer.status_code == 409
    assert "รอบนี้ปิดรับรายงานแล้ว" in answer.text
    assert f"รอบ {CLOSED_ROUND} ปิดแล้ว เปลี่ยนกำหนดการไม่ได้" in answer.text  # intake's words
    assert 'id="opens_at-error"' in answer.text and 'href="#opens_at"' in answer.text


async def test_a_post_without_the_form_token_changes_nothing(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    row = portal.intake.round_rows[ROUND]
    posts = [
        (f"/operator/rounds/{ROUND}", dates_form(row, **{"due_at-time": "16:30"}, reason="ดี")),
        (f"/operator/rounds/{ROUND}/extensions", {"center_id": "GECC-0001", "reason": "ดี"}),
        (f"/operator/rounds/{ROUND}/exports", {}),
        ("/operator/accounts/disable", {"email": f" {CENTER} ", "reason": "ย้ายหน่วยงาน"}),
    ]
    for path, fields in posts:
        answer = await portal.client.post(path, data={"csrf_token": "stale", **fields})
        assert answer.status_code == 303, path
        back = answer.headers["location"]
        assert back.startswith(f"{path}?") and back.endswith("notice=form_expired"), back
        again = await portal.client.get(back)
        assert "แบบฟอร์มหมดอายุ" in text(again), path  # the form again, with the notice
    assert "email=saraban%40phranakhon.go.th" in back  # the account to disable is kept
    assert portal.intake.audit_rows == [] and portal.intake.extension_rows == []
    assert portal.intake.export_rows[ROUND]["requests"] == []


async def test_a_granted_extension_appears_in_the_list(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    path = f"/operator/rounds/{ROUND}/extensions"
    assert "ยังไม่มีการขยายเวลาในรอบนี้" in (await portal.client.get(path)).text
    token = await portal.csrf(path)
    until = (portal.intake.now + timedelta(days=40)).astimezone(BANGKOK)
    fields = {
        "csrf_token": token,
        "center_id": "gecc-0001 ",
        "until-day": until.date().isoformat(),
        "until-time": "18:00",
        "reason": "น้ำท่วมสำนักงาน",
    }
    unknown = await portal.client.post(path, data={**fields, "center_id": "GECC-9999"})
    assert unknown.status_code == 422 and "ไม่พบศูนย์รหัสนี้ในทะเบียน" in unknown.text
    past = await portal.client.post(path, data={**fields, "until-day": "2020-01-01"})
    assert past.status_code == 422 and 'id="until-error"' in past.text
    assert "วันที่ขยายเวลาต้องเป็นวันและเวลาในอนาคต" in past.text  # in Thai, before intake
    no_reason = await portal.client.post(path, data={**fields, "reason": " "})
    assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
    assert portal.intake.extension_rows == []
    granted = await portal.client.post(path, data=fields)
    assert granted.status_code == 303
    page = await portal.client.get(granted.headers["location"])
    listed = text(page)
    assert "ขยายเวลาให้ศูนย์แล้ว" in listed
    assert "GECC-0001" in listed and "น้ำท่วมสำนักงาน" in listed and OPERATOR in listed
    assert "18:00" in listed
    assert portal.intake.extension_rows[0]["until"].astimezone(BANGKOK).hour == 18


async def test_the_grant_form_offers_a_week_from_now_once_the_round_has_closed(
    portal: Portal,
) -> None:
    await portal.sign_in(OPERATOR)
    page = await portal.client.get(f"/operator/rounds/{CLOSED_ROUND}/extensions")
    week = (portal.intake.now + timedelta(days=7)).astimezone(BANGKOK).date().isoformat()
    assert f'name="until-day" value="{week}"' in page.text


async def test_an_export_is_requested_and_shown_requested(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    closed = text(await portal.client.get(f"/operator/rounds/{CLOSED_ROUND}/exports"))
    assert "ส่งครบ ยอดตรงกับระบบของ สปน." in closed and "เมื่อปิดรอบ" in closed
    assert "1,343" in closed and "PMO system answered 503" in closed
    assert "3 จาก 3 ชุด" in closed
    assert "ไฟล์หลักฐาน 2" in closed and "ขนาดไฟล์หลักฐาน (ไบต์) 504,200" in closed
    assert "evidence_files" not in closed  # every count labelled in Thai
    path = f"/operator/rounds/{ROUND}/exports"
    assert "ยังไม่มีคำขอส่งออกข้อมูล" in (await portal.client.get(path)).text
    answer = await portal.post(path)
    assert answer.status_code == 303
    page = text(await portal.client.get(answer.headers["location"]))
    assert "ส่งคำขอส่งออกข้อมูลแล้ว" in page and OPERATOR in page
    assert len(portal.intake.export_rows[ROUND]["requests"]) == 1


async def test_the_audit_log_filters_and_pages(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    for n in range(60):
        portal.intake._audit(
            "cli:root" if n % 2 else OPERATOR,
            "extension.grant",
            f"round:{ROUND}/center:GECC-{n:04}",
            {"until": "2027-04-30T18:00:00+07:00", "reason": f"เหตุผล {n}"},
        )
    portal.intake._audit(OPERATOR, "account.disable", "account:x@y.go.th", {"reason": "ลาออก"})
    first = await portal.client.get("/operator/audit")
    entries = re.findall(r'class="entry__target">([^<]+)<', first.text)
    assert len(entries) == 50 and entries[0] == "account:x@y.go.th"  # newest first
    assert "<dt>reason</dt><dd>ลาออก</dd>" in first.text  # details readable, not raw JSON
    assert "<dt>until</dt><dd>30 เมษายน 2570 เวลา 18:00 น.</dd>" in first.text
    older = re.search(r'href="(/operator/audit\?before=[^"]+)" rel="next"', first.text)
    assert older, "an older link"
    second = await portal.client.get(unescape(older.group(1)))
    rest = re.findall(r'class="entry__target">([^<]+)<', second.text)
    assert len(rest) == 11 and not set(rest) & set(entries)
    assert 'rel="next"' not in second.text
    by_target = await portal.client.get(f"/operator/audit?target=round:{ROUND}/center:GECC-001")
    assert len(re.findall(r'class="entry__target"', by_target.text)) == 10
    by_actor = await portal.client.get("/operator/audit?actor=cli:")
    actors = re.findall(r"<dd>(cli:root|" + re.escape(OPERATOR) + ")</dd>", by_actor.text)
    assert actors and set(actors) == {"cli:root"}
    today = portal.intake.now.astimezone(BANGKOK).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    none = await portal.client.get(f"/operator/audit?since={tomorrow}")
    assert "ไม่พบรายการ" in none.text
    until_today = await portal.client.get(f"/operator/audit?until={today}&target=account:")
    assert len(re.findall(r'class="entry__target"', until_today.text)) == 1
    bad = await portal.client.get("/operator/audit?since=31/12/2569")
    assert bad.status_code == 422 and 'id="since-error"' in bad.text


async def test_an_accounts_file_with_errors_is_refused_by_row(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    token = await portal.csrf("/operator/accounts/import")
    wrong = (
        "email,role,scope\nnew@bangkok.go.th,office,PMO/BMA\n"
        "not-an-address,office,PMO/BMA\nx@y.go.th,boss,PMO\n"
    )
    answer = await portal.client.post(
        "/operator/accounts/import",
        data={"csrf_token": token},
        files={"file": ("accounts.csv", wrong.encode(), "text/csv")},
    )
    assert answer.status_code == 422
    rows = re.findall(
        r'<td class="num"[^>]*>(\d+)</td>\s*<td[^>]*>([^<]+)</td>\s*<td[^>]*>([^<]+)</td>',
        answer.text,
    )
    assert [(line, column) for line, column, _ in rows] == [("3", "email"), ("4", "role")]
    assert "ไม่ใช่อีเมล" in rows[0][2]  # Thai first
    assert "ยังไม่ได้นำเข้าข้อมูลใด" in answer.text
    assert not any(a["email"] == "new@bangkok.go.th" for a in portal.intake.account_rows)
    right = "email,role,scope\nnew@bangkok.go.th,office,PMO/BMA\n"
    answer = await portal.client.post(
        "/operator/accounts/import",
        data={"csrf_token": token},
        files={"file": ("accounts.csv", right.encode(), "text/csv")},
    )
    assert answer.status_code == 200 and "บัญชีใหม่ 1 บัญชี" in answer.text
    listed = await portal.client.get("/operator/accounts?q=NEW@&kind=office")
    assert "new@bangkok.go.th" in listed.text and "พบ 1 บัญชี" in listed.text


async def test_disabling_an_account_asks_for_a_reason_and_confirmation(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    listed = await portal.client.get("/operator/accounts")
    link = f'href="/operator/accounts/disable?email={CENTER.replace("@", "%40")}"'
    assert link in listed.text
    confirm = await portal.client.get(f"/operator/accounts/disable?email={CENTER}")
    assert "ปิดการใช้งานบัญชี" in confirm.text and CENTER in confirm.text
    account = next(a for a in portal.intake.account_rows if a["email"] == CENTER)
    assert account["disabled"] is False  # opening the confirmation changes nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text)
    assert token
    no_reason = await portal.client.post(
        "/operator/accounts/disable", data={"csrf_token": token.group(1), "email": CENTER}
    )
    assert no_reason.status_code == 422 and "โปรดระบุเหตุผล" in no_reason.text
    assert account["disabled"] is False
    done = await portal.client.post(
        "/operator/accounts/disable",
        data={"csrf_token": token.group(1), "email": CENTER, "reason": "ย้ายหน่วยงาน"},
    )
    assert done.status_code == 303 and account["disabled"] is True
    after = text(await portal.client.get(done.headers["location"]))
    assert f"ปิดการใช้งานบัญชี {CENTER} แล้ว" in after and "ปิดการใช้งานแล้ว" in after


async def test_accounts_are_paged(portal: Portal) -> None:
    for n in range(120):
        portal.intake.account_rows.append(
            {"email": f"u{n:03}@x.go.th", "kind": "office", "disabled": False, "memberships": []}
        )
    await portal.sign_in(OPERATOR)
    first = await portal.client.get("/operator/accounts?kind=office")
    assert "u000@x.go.th" in first.text and "u050@x.go.th" not in first.text
    assert 'href="/operator/accounts?kind=office&amp;number=2" rel="next"' in first.text
    third = await portal.client.get("/operator/accounts?kind=office&number=3")
    assert "u120" not in third.text and "u119@x.go.th" in third.text
    assert 'rel="next"' not in third.text and 'rel="prev"' in third.text


async def test_the_pages_speak_english_when_asked(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    portal.client.cookies.set("gecc_lang", "en")
    page = await portal.client.get(f"/operator/rounds/{ROUND}/extensions")
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "Grant an extension" in page.text and "ขยายเวลาให้ศูนย์" not in page.text
    assert "Time (Bangkok)" in page.text


async def test_an_upload_without_the_form_token_imports_nothing(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    before = len(portal.intake.account_rows)
    answer = await portal.client.post(
        "/operator/accounts/import",
        files={"file": ("accounts.csv", b"email,role,scope\na@b.go.th,office,PMO\n", "text/csv")},
    )
    assert answer.status_code == 400 and "แบบฟอร์มหมดอายุ" in answer.text
    assert len(portal.intake.account_rows) == before
    token = await portal.csrf("/operator/accounts/import")
    empty = await portal.client.post("/operator/accounts/import", data={"csrf_token": token})
    assert empty.status_code == 422 and "โปรดเลือกไฟล์ที่จะนำเข้า" in empty.text
