"""The citizen survey on a center's pages in a real browser (Debian's Chromium) on a
390 x 844 phone, with the fake intake and the fake survey service of tests/support served
over HTTP: the tally renews itself while citizens answer, the button takes it into the
report, the review names the source; the same button without JavaScript. axe-core on every
state (no serious or critical violation). Screenshots: ``docs/screenshots/survey-*.png``
(``GECC_SCREENSHOTS=1``) or a temporary folder."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.e2e.test_office_browser import screenshots as screenshots  # the fixture
from tests.integration.test_portal_pages import CENTERS
from tests.support.browser import PHONE, chromium, serious_violations
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_offices import FakeIntakeOffices, fake_with_offices
from tests.support.fake_survey import FakeSurvey
from tests.support.isolation import Isolated
from tests.support.samples import standard
from tests.support.served_portal import Served, served_portal

C = "saraban@bangrak.go.th"  # GECC-0003: nothing sent yet
CENTER = "GECC-0003"
QUESTIONS = [q.code for q in standard().questions]


@pytest.fixture
async def served(isolated: Isolated) -> AsyncIterator[Served[FakeIntakeOffices]]:
    intake = fake_with_offices(CENTERS, {C: CENTER}, {})
    async with served_portal(isolated, intake, FakeSurvey({CENTER})) as portal:
        yield portal


async def check(page: Page, shots: Path, name: str, full: bool = False) -> None:
    violations = await serious_violations(page)
    assert violations == [], f"{name}: {violations}"
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=full)


async def tick_the_checklist(page: Page) -> None:
    for item in standard().items:
        group = page.get_by_role("group", name=item.title_th)
        await group.get_by_label("ผ่าน", exact=True).check()


async def test_the_tally_moves_and_goes_into_the_report_on_a_phone(
    served: Served[FakeIntakeOffices], screenshots: Path
) -> None:
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, locale="th-TH")
        page = await context.new_page()
        await served.sign_in(page, C)
        await page.goto(f"{served.url}/rounds")
        survey = page.get_by_role("region", name="ผลสำรวจความพึงพอใจจากประชาชน")
        await expect(survey).to_contain_text("ยังไม่มีประชาชนตอบแบบสำรวจของรอบนี้")

        # citizens answer on their phones: the page follows without a reload
        served.survey.many(CENTER, ROUND, QUESTIONS, [5, 5, 4, 4, 4, 3])
        responses = survey.locator('[data-survey="responses"]')
        await expect(responses).to_have_text("6", timeout=15_000)
        await expect(survey.locator(f'[data-survey-percent="{QUESTIONS[0]}"]')).to_have_text(
            "83.33 %"
        )
        await expect(survey.get_by_role("link", name="ดาวน์โหลดโปสเตอร์คิวอาร์โค้ด")).to_be_visible()
        await survey.scroll_into_view_if_needed()
        await check(page, screenshots, "survey-01-rounds-tally")

        await page.get_by_role("link", name="เปิดแบบรายงานเพื่อใช้ผลสำรวจนี้").click()
        served.survey.many(CENTER, ROUND, QUESTIONS, [2])
        box = page.locator(f"#survey-live-{ROUND}")
        await expect(box.locator('[data-survey="responses"]')).to_have_text("7", timeout=15_000)
        await box.scroll_into_view_if_needed()
        await check(page, screenshots, "survey-02-form-tally")

        await page.get_by_role("button", name="ใช้ผลสำรวจนี้ในรายงาน").click()
        await expect(page.get_by_role("status").first).to_contain_text(
            "ใส่ผลสำรวจความพึงพอใจจากประชาชนลงในรายงาน"
        )
        respondents = page.get_by_label("จำนวนผู้ตอบแบบสำรวจทั้งหมด (คน)")
        await expect(respondents).to_have_value("7")
        await expect(respondents).not_to_be_editable()
        group = page.get_by_role("group", name=standard().questions[0].title_th)
        await expect(group.get_by_label("5 มากที่สุด", exact=True)).to_have_value("2")
        await expect(page.locator(".survey-source")).to_contain_text(
            "ผลสำรวจความพึงพอใจจากประชาชน 7 คำตอบ"
        )
        await page.locator(".survey-taken").scroll_into_view_if_needed()
        await check(page, screenshots, "survey-03-taken")

        await tick_the_checklist(page)
        await page.get_by_role("button", name="ตรวจทานก่อนส่ง").click()
        await expect(page).to_have_url(f"{served.url}/rounds/{ROUND}/review")
        await expect(page.locator(".survey-source")).to_contain_text(
            "ผลสำรวจความพึงพอใจจากประชาชน 7 คำตอบ"
        )
        await check(page, screenshots, "survey-04-review")
        await context.close()


async def test_the_button_works_without_javascript(
    served: Served[FakeIntakeOffices], screenshots: Path
) -> None:
    served.survey.many(CENTER, ROUND, QUESTIONS, [4, 5, 3])
    async with chromium() as browser:
        context = await browser.new_context(
            viewport=PHONE, locale="th-TH", java_script_enabled=False
        )
        page = await context.new_page()
        await served.sign_in(page, C)
        await page.goto(f"{served.url}/rounds/{ROUND}/report")
        box = page.locator(f"#survey-live-{ROUND}")
        await expect(box.locator('[data-survey="responses"]')).to_have_text("3")
        await page.get_by_role("button", name="ใช้ผลสำรวจนี้ในรายงาน").click()
        await expect(page.get_by_label("จำนวนผู้ตอบแบบสำรวจทั้งหมด (คน)")).to_have_value("3")
        await expect(page.locator(".survey-source")).to_contain_text("3 คำตอบ")
        # (axe-core needs script: the same page was checked with it in the test above)
        await page.screenshot(path=str(screenshots / "survey-05-no-script.png"))
        await context.close()
