"""The portal's pages on its real database, with intake replaced by an in-memory fake
(tests/support/fake_intake.py): signing in, drafts, review, submitting once, kept forms,
security headers and cookies. The whole system in a browser: tests/e2e/test_portal_browser.py."""

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.support.fake_intake import ROUND, FakeIntake
from tests.support.isolation import Isolated
from tests.support.samples import standard, submission_body

A = "saraban@phranakhon.go.th"
B = "saraban@dusit.go.th"
CENTERS = {
    "GECC-0001": {
        "id": "GECC-0001",
        "name_th": "สำนักงานเขตพระนคร",
        "name_en": "Phra Nakhon District Office",
        "office_path": "PMO/BMA/DISTRICT",
        "province": "กรุงเทพมหานคร",
    },
    "GECC-0002": {
        "id": "GECC-0002",
        "name_th": "สำนักงานเขตดุสิต",
        "name_en": "Dusit District Office",
        "office_path": "PMO/BMA/DISTRICT",
        "province": "กรุงเทพมหานคร",
    },
}


@dataclass
class Portal:
    client: httpx.AsyncClient
    intake: FakeIntake
    database: str

    async def csrf(self, path: str) -> str:
        page = await self.client.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert found, f"no form token on {path}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    async def sign_in(self, email: str) -> httpx.Response:
        code = self.intake.link_for(email)
        token = await self.csrf(f"/sign-in/{code}")
        return await self.client.post(f"/sign-in/{code}", data={"csrf_token": token})

    async def sql(self, query: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.database)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()


async def start_portal(
    isolated: Isolated, public_url: str, **settings_: Any
) -> AsyncIterator[Portal]:
    database = isolated.service_url("portal")
    settings = PortalSettings(database_url=database, public_url=public_url, **settings_)
    app = create_app(settings)
    fake = FakeIntake(centers=CENTERS, accounts={A: "GECC-0001", B: "GECC-0002"})
    async with app.router.lifespan_context(app):
        app.state.intake = fake
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=public_url) as client:
            yield Portal(client, fake, database)


@pytest.fixture
async def portal(isolated: Isolated) -> AsyncIterator[Portal]:
    async for running in start_portal(isolated, "http://127.0.0.1:8084"):
        yield running


def form_fields(csrf: str, **changes: str) -> dict[str, str]:
    body = submission_body()
    fields = {"csrf_token": csrf, "respondents": str(body["satisfaction"]["respondents"])}
    for question in body["satisfaction"]["questions"]:
        for rating, count in enumerate(question["counts"], start=1):
            fields[f"count-{question['code']}-{rating}"] = str(count)
    for item in body["checklist"]["items"]:
        fields[f"met-{item['code']}"] = "yes"
        fields[f"evidence-{item['code']}"] = item["evidence"]
    return {**fields, **changes}


async def test_the_answer_to_an_address_does_not_tell_whether_it_has_an_account(
    portal: Portal,
) -> None:
    token = await portal.csrf("/sign-in")
    known = await portal.client.post("/sign-in", data={"email": A, "csrf_token": token})
    unknown = await portal.client.post(
        "/sign-in", data={"email": "nobody@example.go.th", "csrf_token": token}
    )
    assert (known.status_code, known.headers["location"]) == (
        unknown.status_code,
        unknown.headers["location"],
    )
    assert known.status_code == 303 and known.headers["location"].startswith("/sign-in/sent")
    assert portal.intake.requested == [A, "nobody@example.go.th"]


async def test_a_link_opens_a_session_only_with_its_button_and_once(portal: Portal) -> None:
    code = portal.intake.link_for(A)
    confirm = await portal.client.get(f"/sign-in/{code}")
    assert confirm.status_code == 200 and code in portal.intake.codes  # opening spends nothing
    token = re.search(r'name="csrf_token" value="([^"]+)"', confirm.text)
    assert token is not None
    signed_in = await portal.client.post(f"/sign-in/{code}", data={"csrf_token": token.group(1)})
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/rounds")
    cookie = next(v for k, v in signed_in.headers.multi_items() if "gecc_session=" in v)
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()  # served on loopback
    twice = await portal.client.post(f"/sign-in/{code}", data={"csrf_token": token.group(1)})
    assert (twice.status_code, twice.headers["location"]) == (303, "/rounds")  # a double click
    portal.client.cookies.clear()  # another browser: the link is used up
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', (await portal.client.get(f"/sign-in/{code}")).text
    )
    assert token is not None
    again = await portal.client.post(f"/sign-in/{code}", data={"csrf_token": token.group(1)})
    assert again.status_code == 410
    assert "ลิงก์นี้ใช้ไม่ได้แล้ว" in again.text and 'href="/sign-in"' in again.text


async def test_a_session_lasts_in_real_time_when_the_rounds_clock_runs_fast(
    isolated: Isolated,
) -> None:
    # As in `gecc demo`: a virtual day in 4 s; an 8-hour session must not end in 1.3 s.
    async for portal in start_portal(isolated, "http://127.0.0.1:8084", clock_speed=21_600):
        assert (await portal.sign_in(A)).status_code == 303
        await asyncio.sleep(2)
        rounds = await portal.client.get("/rounds")
        assert rounds.status_code == 200, rounds.headers.get("location")


async def test_cookies_are_secure_off_loopback(isolated: Isolated) -> None:
    async for portal in start_portal(isolated, "https://gecc.example.go.th"):
        signed_in = await portal.sign_in(A)
        cookie = next(v for k, v in signed_in.headers.multi_items() if "gecc_session=" in v)
        assert "secure" in cookie.lower()


async def test_pages_keep_to_their_origin(portal: Portal) -> None:
    page = await portal.client.get("/sign-in")
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["referrer-policy"] == "same-origin"
    assert "<script>" not in page.text and " onclick=" not in page.text


async def test_a_form_without_its_token_changes_nothing(portal: Portal) -> None:
    refused = await portal.client.post("/sign-in", data={"email": A, "csrf_token": "forged"})
    assert refused.status_code == 400 and portal.intake.requested == []
    await portal.sign_in(A)
    saved = await portal.client.post(f"/rounds/{ROUND}/report", data=form_fields("forged"))
    assert saved.status_code == 303 and "notice=kept" in saved.headers["location"]
    assert await portal.sql("SELECT * FROM drafts") == []


async def test_a_draft_is_kept_across_sign_out_and_shown_as_a_draft(portal: Portal) -> None:
    await portal.sign_in(A)
    token = await portal.csrf(f"/rounds/{ROUND}/report")
    fields = form_fields(token, respondents="777", action="save")
    saved = await portal.client.post(f"/rounds/{ROUND}/report", data=fields)
    assert saved.status_code == 200 and "บันทึกร่างรายงานแล้ว" in saved.text
    await portal.client.post("/sign-out", data={"csrf_token": token})
    assert (await portal.client.get("/rounds")).status_code == 303
    await portal.sign_in(A)
    rounds = await portal.client.get("/rounds")
    assert "มีร่างรายงานที่ยังไม่ได้ส่ง" in rounds.text
    form = await portal.client.get(f"/rounds/{ROUND}/report")
    assert 'value="777"' in form.text


async def test_wrong_entries_are_shown_next_to_their_fields_in_thai(portal: Portal) -> None:
    await portal.sign_in(A)
    token = await portal.csrf(f"/rounds/{ROUND}/report")
    q1, item = standard().questions[0].code, standard().items[0].code
    fields = form_fields(token, action="review", respondents="10", **{f"met-{item}": ""})
    answer = await portal.client.post(f"/rounds/{ROUND}/report", data=fields)
    assert answer.status_code == 422
    assert 'class="error-summary"' in answer.text
    assert f'href="#count-{q1}-1"' in answer.text and f'href="#met-{item}"' in answer.text
    assert "มากกว่าจำนวนผู้ตอบแบบสำรวจทั้งหมด 10 คน" in answer.text
    assert "โปรดเลือกว่าข้อนี้ผ่านหรือไม่ผ่าน" in answer.text
    assert f'id="count-{q1}-1"' in answer.text and 'aria-invalid="true"' in answer.text


async def test_percentages_are_computed_on_the_server_without_script(portal: Portal) -> None:
    await portal.sign_in(A)
    token = await portal.csrf(f"/rounds/{ROUND}/report")
    saved = await portal.client.post(
        f"/rounds/{ROUND}/report", data=form_fields(token, action="save")
    )
    assert "90.15 %" in saved.text


async def test_a_report_is_submitted_exactly_once(portal: Portal) -> None:
    await portal.sign_in(A)
    token = await portal.csrf(f"/rounds/{ROUND}/report")
    reviewed = await portal.client.post(
        f"/rounds/{ROUND}/report", data=form_fields(token, action="review")
    )
    assert reviewed.headers["location"] == f"/rounds/{ROUND}/review"
    review = await portal.client.get(f"/rounds/{ROUND}/review")
    key = re.search(r'name="key" value="([^"]+)"', review.text)
    assert key is not None
    send = {"csrf_token": token, "key": key.group(1)}
    first = await portal.client.post(f"/rounds/{ROUND}/submit", data=send)
    second = await portal.client.post(f"/rounds/{ROUND}/submit", data=send)  # a double click
    assert first.headers["location"] == second.headers["location"]
    [submission] = portal.intake.submissions.values()
    assert len(submission["versions"]) == 1
    receipt = await portal.client.get(first.headers["location"])
    assert f"{ROUND}/GECC-0001/v1" in receipt.text and "ใบรับรายงาน" in receipt.text
    rounds = await portal.client.get("/rounds")
    assert "ส่งแล้ว ตรงตามกำหนด" in rounds.text and "แก้ไขรายงาน" in rounds.text


async def test_a_session_is_asked_for_again_after_its_recheck_time(isolated: Isolated) -> None:
    async for portal in start_portal(isolated, "http://127.0.0.1:8084", session_recheck_seconds=1):
        await portal.sign_in(A)
        assert (await portal.client.get("/rounds")).status_code == 200
        await portal.sql("DELETE FROM sessions")
        assert (await portal.client.get("/rounds")).status_code == 200  # believed a while
        await asyncio.sleep(1.1)
        assert (await portal.client.get("/rounds")).status_code == 303  # to sign in


@pytest.fixture
async def unkept_sessions(isolated: Isolated) -> AsyncIterator[Portal]:
    """A portal that asks its database for the session on every request, for tests that end
    sessions there."""
    async for running in start_portal(isolated, "http://127.0.0.1:8084", session_recheck_seconds=0):
        yield running


async def test_a_form_posted_after_the_session_ended_comes_back_after_sign_in(
    unkept_sessions: Portal,
) -> None:
    portal = unkept_sessions
    await portal.sign_in(A)
    token = await portal.csrf(f"/rounds/{ROUND}/report")
    await portal.sql("UPDATE sessions SET expires_at = $1", datetime(2000, 1, 1, tzinfo=UTC))
    late = await portal.client.post(
        f"/rounds/{ROUND}/report", data=form_fields(token, respondents="654", action="save")
    )
    assert late.status_code == 303 and "notice=kept" in late.headers["location"]
    back = await portal.sign_in(A)
    assert back.headers["location"] == f"/rounds/{ROUND}/report?notice=restored"
    restored = await portal.client.get(back.headers["location"])
    assert 'value="654"' in restored.text and "นำข้อมูลที่ท่านกรอกไว้" in restored.text


async def test_another_centers_pages_are_not_found(portal: Portal) -> None:
    await portal.sign_in(A)
    token = await portal.csrf(f"/rounds/{ROUND}/report")
    await portal.client.post(f"/rounds/{ROUND}/report", data=form_fields(token, action="review"))
    review = await portal.client.get(f"/rounds/{ROUND}/review")
    key = re.search(r'name="key" value="([^"]+)"', review.text)
    assert key is not None
    sent = await portal.client.post(
        f"/rounds/{ROUND}/submit", data={"csrf_token": token, "key": key.group(1)}
    )
    receipt = sent.headers["location"]
    await portal.client.post("/sign-out", data={"csrf_token": token})
    await portal.sign_in(B)
    assert (await portal.client.get(receipt)).status_code == 404
    assert (await portal.client.get(receipt.split("/versions")[0])).status_code == 404


async def test_english_is_one_switch_away(portal: Portal) -> None:
    switched = await portal.client.get("/lang/en?next=/sign-in")
    assert switched.status_code == 303
    page = await portal.client.get("/sign-in")
    assert '<html lang="en">' in page.text and "Send me a sign-in link" in page.text


async def test_too_many_requests_from_one_address_get_a_thai_page(isolated: Isolated) -> None:
    async for portal in start_portal(isolated, "http://127.0.0.1:8084", sign_in_burst=2):
        token = await portal.csrf("/sign-in")
        answers = [
            await portal.client.post("/sign-in", data={"email": A, "csrf_token": token})
            for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [303, 303, 429]
        assert int(answers[-1].headers["retry-after"]) > 0
        assert "ส่งคำขอบ่อยเกินไป" in answers[-1].text
        assert portal.intake.requested == [A, A]
