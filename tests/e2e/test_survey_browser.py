"""A citizen answers a center's survey on a 390 x 844 phone in Debian's Chromium, as a
person would: by the Thai labels, without JavaScript; the page and the thank-you page pass
axe-core (no serious or critical violation) and their Thai is drawn with Sarabun, the
service's own font (never boxes). The survey service runs on the real broker and database."""

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from services.survey.app import newest_standard
from services.survey.settings import SurveySettings
from shared.standards import load_catalog
from tests.support.browser import PHONE, chromium, fonts_drawing, serious_violations
from tests.support.isolation import Isolated
from tests.support.served_survey import CENTER, announce, served_survey

REPO = Path(__file__).resolve().parents[2]


def screenshots(tmp_path: Path) -> Path:
    folder = REPO / "docs" / "screenshots" if os.environ.get("GECC_SCREENSHOTS") == "1" else None
    folder = folder or tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def check(page: Page, name: str, shots: Path) -> None:
    violations = await serious_violations(page)
    assert violations == [], f"{name}: {violations}"
    assert "Sarabun" in await fonts_drawing(page, "h1"), name
    await page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


@pytest.mark.timeout(180)
async def test_a_citizen_answers_on_a_phone_without_javascript(
    isolated: Isolated, tmp_path: Path
) -> None:
    questions = newest_standard(load_catalog(SurveySettings().standards_dir)).questions
    shots = screenshots(tmp_path)
    await announce(isolated)
    async with served_survey(isolated) as served, chromium() as browser:
        context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{served.url}/s/{CENTER.center_id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "แบบสำรวจความพึงพอใจของผู้รับบริการ"
        )
        await expect(page.get_by_text(CENTER.name_th)).to_be_visible()

        # One answer left out: the form comes back with the others kept and a message there.
        for index, question in enumerate(questions[1:], start=2):
            group = page.get_by_role("group", name=f"{index}. {question.title_th}")
            await group.get_by_role("radio", name="4 มาก", exact=True).click()
        await page.get_by_role("button", name="ส่งคำตอบ").click()
        await expect(page.get_by_role("alert")).to_contain_text("ยังไม่ได้ตอบ 1 ข้อ")
        first = page.get_by_role("group", name=f"1. {questions[0].title_th}")
        await expect(first.get_by_text("โปรดเลือกคะแนนของข้อนี้")).to_be_visible()
        second = page.get_by_role("group", name=f"2. {questions[1].title_th}")
        await expect(second.get_by_role("radio", name="4 มาก", exact=True)).to_be_checked()

        await first.get_by_role("radio", name="5 มากที่สุด").click()
        await expect(first.get_by_role("radio", name="5 มากที่สุด")).to_be_checked()
        box = await first.get_by_text("1 น้อยที่สุด").bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44  # touch targets
        await page.get_by_role("button", name="ส่งคำตอบ").click()

        await expect(page.get_by_role("heading", level=1)).to_have_text("ขอบคุณที่ร่วมตอบแบบสำรวจ")
        assert page.url.endswith(f"/s/{CENTER.center_id}/thanks")
        await page.goto(f"{served.url}/s/{CENTER.center_id}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "วันนี้ท่านได้ตอบแบบสำรวจของศูนย์นี้แล้ว"
        )
        await context.close()

        # axe-core and the font check need scripts of their own: the same pages again.
        context = await browser.new_context(viewport=PHONE)
        page = await context.new_page()
        await page.goto(f"{served.url}/s/{CENTER.center_id}")
        await check(page, "survey-phone", shots)
        await page.get_by_role("button", name="ส่งคำตอบ").click()
        await check(page, "survey-incomplete-phone", shots)
        for index, question in enumerate(questions, start=1):
            group = page.get_by_role("group", name=f"{index}. {question.title_th}")
            await group.get_by_role("radio", name="3 ปานกลาง").click()
        await page.get_by_role("button", name="ส่งคำตอบ").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("ขอบคุณที่ร่วมตอบแบบสำรวจ")
        await check(page, "survey-thanks-phone", shots)
        await context.close()
