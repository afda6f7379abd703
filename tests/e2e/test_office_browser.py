"""A parent office's pages in a real browser (Debian's Chromium), as a person uses them:
by the Thai labels on the screen, with the keyboard alone, on a desktop and on a 390 x 844
phone; every page checked by axe-core (no serious or critical violation) and its Thai text
drawn with Sarabun. Screenshots of each page go to ``docs/screenshots/office-*.png``
(``GECC_SCREENSHOTS=1``) or a temporary folder.

Two setups:
- the portal with the hand-counted fake intake (tests/support/fake_intake_offices.py) served
  over HTTP, where the test makes reports "arrive" and the page must show them without reload;
- every service running (the real intake's completeness API, issue 17's contract): an office
  of the registry watches its centers report, and the page's numbers are the API's.
"""

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from playwright.async_api import Page, expect

from gecc import mailsink
from services.intake import admin
from services.intake.domain.accounts import Scope
from services.intake.domain.accounts_file import ListedMembership
from services.intake.handlers import accounts
from tests.e2e.test_portal_browser import CENTERS as REGISTRY
from tests.e2e.test_portal_browser import System, _registry, link_for
from tests.integration.test_portal_pages import CENTERS, A
from tests.support.browser import DESKTOP, PHONE, chromium, fonts_drawing, serious_violations
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_offices import FakeIntakeOffices, fake_with_offices
from tests.support.isolation import Isolated
from tests.support.samples import submission_body
from tests.support.served_portal import Served, served_portal
from tests.support.services import running_services, wait_for_consumers

REPO = Path(__file__).resolve().parents[2]
BMA = "office@bma.go.th"
COUNTS = ("expected", "submitted", "on_time", "late", "missing")
OPERATOR = "ops@opdc.go.th"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = REPO / "docs" / "screenshots" if os.environ.get("GECC_SCREENSHOTS") == "1" else None
    folder = folder or tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def served(isolated: Isolated) -> AsyncIterator[Served[FakeIntakeOffices]]:
    """The portal over HTTP (its real database) with the fake intake of offices."""
    fake = fake_with_offices(CENTERS, {A: "GECC-0001"}, {BMA: "PMO/BMA", OPERATOR: None})
    async with served_portal(isolated, fake) as portal:
        yield portal


async def check(page: Page, shots: Path, name: str) -> None:
    violations = await serious_violations(page)
    assert violations == [], f"{name}: {violations}"
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def arrive(fake: FakeIntakeOffices, offices: tuple[str, ...], n: int = 1) -> None:
    """``n`` reports arrive on time in each office of ``offices`` (a level and its parents)."""
    for level in fake.levels:
        if level["office_path"] in offices:
            level["submitted"] += n
            level["on_time"] += n
            level["missing"] -= n
            level["verdicts"]["pending"] += n


async def test_an_office_follows_its_centers_on_a_desktop_and_a_phone(
    served: Served, screenshots: Path
) -> None:
    async with chromium() as browser:
        for viewport, tag in ((DESKTOP, "office"), (PHONE, "office-phone")):
            context = await browser.new_context(viewport=viewport, locale="th-TH")
            page = await context.new_page()
            await served.sign_in(page, BMA)
            await page.wait_for_url(f"**/office/{ROUND}/PMO/BMA")
            await expect(page.get_by_role("heading", level=1)).to_contain_text("กรุงเทพมหานคร")
            assert "Sarabun" in await fonts_drawing(page, "h1")
            submitted = page.locator("#office-live dd[data-count=submitted]")
            await expect(submitted).to_have_text("3")
            await check(page, screenshots, f"{tag}-01-completeness")

            # reports arrive: the numbers change on the page without a reload
            arrive(served.intake, ("PMO", "PMO/BMA", "PMO/BMA/DISTRICT"))
            await expect(submitted).to_have_text("4", timeout=15_000)
            row = page.locator('tr[data-office="PMO/BMA/DISTRICT"] td[data-count=missing]')
            await expect(row).to_have_text("0")
            await expect(page.locator("#live-announce")).to_have_text("มีรายงานเข้ามาใหม่ 1 ฉบับ")
            assert "ความครบถ้วนของรายงาน" in await page.title()

            await page.get_by_role("link", name="ต้องติดตาม (1)").click()
            await expect(page.get_by_text("ความพึงพอใจต่ำกว่าร้อยละ 80")).to_be_visible()
            await check(page, screenshots, f"{tag}-02-follow-up")

            await page.get_by_role("link", name="สำนักงานเขต", exact=True).click()
            await page.wait_for_url(f"**/office/{ROUND}/PMO/BMA/DISTRICT")
            await expect(page.get_by_role("link", name="กรุงเทพมหานคร")).to_be_visible()
            await page.get_by_role("link", name="ทั้งหมด (3)").click()
            await check(page, screenshots, f"{tag}-03-drill-down")

            await page.get_by_role("link", name="สำนักงานเขตดุสิต").click()
            await expect(page.get_by_role("heading", name="มีความเสี่ยง")).to_be_visible()
            await expect(page.get_by_text("รายงานนี้แสดงเพื่ออ่านเท่านั้น")).to_be_visible()
            await check(page, screenshots, f"{tag}-04-center-report")
            arrive(served.intake, ("PMO", "PMO/BMA", "PMO/BMA/DISTRICT"), -1)
            await context.close()


async def test_the_office_pages_work_with_the_keyboard_alone(served: Served) -> None:
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP, locale="th-TH")).new_page()
        await page.goto(f"{served.url}/sign-in/{served.intake.link_for(OPERATOR)}")
        await page.get_by_role("button", name="เข้าสู่ระบบ").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**/office/{ROUND}/PMO")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="ข้ามไปยังเนื้อหาหลัก")).to_be_focused()

        async def tab_to(name: str) -> None:
            """Tab forward until the link or control named ``name`` has the focus."""
            for _ in range(300):
                await page.keyboard.press("Tab")
                focused = await page.evaluate(
                    "() => (document.activeElement.innerText || document.activeElement.value"
                    " || '').trim()"
                )
                if focused.startswith(name):
                    return
            raise AssertionError(f"the keyboard never reached {name!r}")

        await tab_to("กระทรวงมหาดไทย")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**/office/{ROUND}/PMO/MOI")
        await tab_to("กรมการปกครอง")
        await page.keyboard.press("Enter")
        await page.wait_for_url(f"**/office/{ROUND}/PMO/MOI/DOPA")
        await tab_to("หน้าถัดไป")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/PMO/MOI/DOPA?list=missing&page=2")
        await expect(page.get_by_text("หน้า 2 จาก 3")).to_be_visible()
        # the round selector is a form: choose with the arrow keys, send with Enter
        await page.get_by_label("รอบการรายงาน").focus()
        await page.keyboard.press("ArrowDown")
        await tab_to("แสดง")
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/office/FY2569-FY/PMO/MOI/DOPA")


async def test_a_center_finds_no_office_page(served: Served) -> None:
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=PHONE, locale="th-TH")).new_page()
        await served.sign_in(page, A)
        await page.wait_for_url("**/rounds")
        answer = await page.goto(f"{served.url}/office/{ROUND}/PMO/BMA")
        assert answer is not None and answer.status == 404
        await expect(page.get_by_role("heading", name="ไม่พบหน้าที่ต้องการ")).to_be_visible()
        assert await serious_violations(page) == []


# --- every service running: the real intake's completeness (issue 17's contract) -----------


async def api_completeness(intake: str, token: str, office: str) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{intake}/v1/rounds/{ROUND}/completeness",
            params={"office": office, "depth": "1", "lists": ""},
            headers={"Authorization": f"Bearer {token}"},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        found: dict[str, Any] = await answer.json()
        return found


def page_numbers(html: str) -> dict[str, int]:
    summary = html.split('id="summary-title"', 1)[1].split("</section>", 1)[0]
    found = re.findall(r'data-count="(\w+)">([\d,]+)<', summary)
    return {name: int(value.replace(",", "")) for name, value in found}


@pytest.fixture
async def stack(isolated: Isolated, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """Every service, the registry of the portal's browser test (four BMA districts), the
    BMA's office account, and tokens for the API: the office's and each center's."""
    mail = tmp_path / "mail"
    sink = await mailsink.serve(mail, "127.0.0.1", 0)
    env = {
        "GECC_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "GECC_NOTIFIER_SMTP_PORT": str(mailsink.bound_port(sink)),
    }
    try:
        with running_services(isolated, tmp_path / "logs", env) as processes:
            urls = {name: p.url for name, p in processes.items()}
            await wait_for_consumers(urls)
            database = isolated.service_url("intake")
            await _registry(database)
            conn = await asyncpg.connect(database)
            try:
                office = Scope("office", office_path="PMO/BMA")
                await accounts.import_accounts(conn, [ListedMembership(2, BMA, office)], "test")
                urls["office_token"] = (
                    await admin.issue_token(conn, "office", office_path="PMO/BMA")
                ).token
                for center in REGISTRY:
                    issued = await admin.issue_token(conn, "center", center_id=center.id)
                    urls[center.id] = issued.token
            finally:
                await conn.close()
            urls["mail"] = str(mail)
            yield urls
    finally:
        sink.close()


async def send_report(intake: str, token: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{intake}/v1/submissions",
            json=submission_body(),
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": token[-20:]},
        ) as answer,
    ):
        assert answer.status in (200, 201), await answer.text()


async def test_the_bma_watches_its_districts_report_with_the_real_intake(
    stack: dict[str, str],
) -> None:
    """Needs intake's side of issue 17 (the extended completeness API): branch h17-intake."""
    intake, portal = stack["intake"], stack["portal"]
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP, locale="th-TH")).new_page()
        await page.goto(f"{portal}/sign-in")
        await page.get_by_label("อีเมล").fill(BMA)
        await page.get_by_role("button", name="ส่งลิงก์เข้าสู่ระบบ").click()
        await expect(page.get_by_role("heading", name="โปรดตรวจสอบอีเมลของท่าน")).to_be_visible()
        system = System(portal, Path(stack["mail"]), "", Path())
        await page.goto(await link_for(system, BMA, 0))
        await page.get_by_role("button", name="เข้าสู่ระบบ").click()
        await page.wait_for_url(f"**/office/{ROUND}/PMO/BMA")
        # (an intake without issue 17's completeness API makes this page fail here)
        await expect(page.get_by_role("heading", level=1)).to_contain_text("PMO/BMA")
        assert await serious_violations(page) == []

        api = await api_completeness(intake, stack["office_token"], "PMO/BMA")
        own = next(level for level in api["levels"] if level["office_path"] == "PMO/BMA")
        expected = {**{k: own[k] for k in COUNTS}, **own["verdicts"]}
        assert page_numbers(await page.content()) == expected
        assert expected["expected"] == len(REGISTRY) and expected["submitted"] == 0

        # two districts report while the page is open: it shows them without a reload
        for center in REGISTRY[:2]:
            await send_report(intake, stack[center.id])
        submitted = page.locator("#office-live dd[data-count=submitted]")
        await expect(submitted).to_have_text("2", timeout=20_000)
        api = await api_completeness(intake, stack["office_token"], "PMO/BMA")
        own = next(level for level in api["levels"] if level["office_path"] == "PMO/BMA")
        await page.reload()
        assert page_numbers(await page.content()) == {
            **{k: own[k] for k in COUNTS},
            **own["verdicts"],
        }
