"""A center's staff report through the portal in a real browser (Debian's Chromium), against
every service running as its own process on the real broker and database, with the sign-in
link read from a real SMTP sink, as a person would: by the Thai labels on the screen.

Every page visited is checked by axe-core (no serious or critical violation), the Thai text
must be drawn with Sarabun (the portal's own font, never boxes), and the flow runs on a
desktop and on a 390 x 844 phone. The screenshots of each page go to ``docs/screenshots/``
(``GECC_SCREENSHOTS=1``) or a temporary folder."""

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Browser, Page, ViewportSize, expect

from gecc import mailsink
from services.intake import admin
from services.intake.domain.centers import Center
from tests.support.browser import DESKTOP, PHONE, chromium, fonts_drawing, serious_violations
from tests.support.isolation import Isolated
from tests.support.polling import eventually
from tests.support.samples import standard, submission_body
from tests.support.services import running_services, wait_for_consumers

ROUND = "FY2570-H1"
REPO = Path(__file__).resolve().parents[2]
CENTERS = [
    Center(
        f"GECC-000{n}",
        f"ศูนย์ราชการสะดวก สำนักงานเขต{name}",
        f"{name_en} District Office",
        "PMO/BMA/DISTRICT",
        "กรุงเทพมหานคร",
        contact_emails=(f"saraban{n}@district{n}.go.th",),
    )
    for n, name, name_en in (
        (1, "พระนคร", "Phra Nakhon"),
        (2, "ดุสิต", "Dusit"),
        (3, "บางรัก", "Bang Rak"),
        (4, "ปทุมวัน", "Pathum Wan"),
    )
]


@dataclass
class System:
    portal: str
    mail: Path
    intake_db: str
    shots: Path
    pages_checked: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = REPO / "docs" / "screenshots" if os.environ.get("GECC_SCREENSHOTS") == "1" else None
    folder = folder or tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
async def system(
    module_isolated: Isolated, tmp_path_factory: pytest.TempPathFactory, screenshots: Path
) -> AsyncIterator[System]:
    """One stack for the module's tests (starting every service is the slow part): each
    test signs in as centers of its own."""
    home = tmp_path_factory.mktemp("system")
    mail = home / "mail"
    sink = await mailsink.serve(mail, "127.0.0.1", 0)
    env = {
        "GECC_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "GECC_NOTIFIER_SMTP_PORT": str(mailsink.bound_port(sink)),
    }
    try:
        with running_services(module_isolated, home / "logs", env) as processes:
            urls = {name: p.url for name, p in processes.items()}
            await wait_for_consumers(urls)
            database = module_isolated.service_url("intake")
            await _registry(database)
            yield System(urls["portal"], mail, database, screenshots)
    finally:
        sink.close()


async def _registry(database: str) -> None:
    conn = await asyncpg.connect(database)
    now = datetime.now(UTC)
    try:
        await admin.register_centers(conn, CENTERS)
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=2), now + timedelta(days=12), now + timedelta(days=26)
        )
    finally:
        await conn.close()


async def link_for(system: System, email: str, after: int) -> str:
    """The sign-in link of the newest message to ``email`` (the sink has more than ``after``)."""

    def sign_in_mail() -> list[EmailMessage]:
        return [
            m
            for m in mailsink.read_mailbox(system.mail)
            if m["X-GECC-Kind"] == "sign_in" and m["To"] == email
        ]

    found = await eventually(
        lambda: asyncio.to_thread(sign_in_mail), lambda mail: len(mail) > after, within=20
    )
    body = found[-1].get_body(("plain",))
    assert body is not None
    match = re.search(r"https?://\S+/sign-in/\S+", body.get_content())
    assert match, body.get_content()
    return match.group(0)


async def check(system: System, page: Page, name: str) -> None:
    """axe-core on the page as it is, and a screenshot of it (once a page and viewport: a
    second sign-in shows the same pages again)."""
    violations = await serious_violations(page)
    assert violations == [], f"{name}: {violations}"
    system.pages_checked.append(name)
    if not name.startswith(("again-", "phone-again-", "other-")):
        await page.screenshot(path=str(system.shots / f"{name}.png"), full_page=True)


async def sign_in(system: System, page: Page, email: str, tag: str, count: int) -> None:
    await page.goto(f"{system.portal}/sign-in")
    await check(system, page, f"{tag}01-sign-in")
    await page.get_by_label("อีเมล").fill(email)
    await page.get_by_role("button", name="ส่งลิงก์เข้าสู่ระบบ").click()
    await expect(page.get_by_role("heading", name="โปรดตรวจสอบอีเมลของท่าน")).to_be_visible()
    await check(system, page, f"{tag}02-link-sent")
    await page.goto(await link_for(system, email, count))
    await check(system, page, f"{tag}03-confirm")
    await page.get_by_role("button", name="เข้าสู่ระบบ").click()
    await page.wait_for_url("**/rounds")


async def fill_report(page: Page, respondents: int = 412) -> None:
    """The whole form by the labels a person reads."""
    body: dict[str, Any] = submission_body(respondents=respondents)
    await page.get_by_label("จำนวนผู้ตอบแบบสำรวจทั้งหมด (คน)").fill(str(respondents))
    titles = {q.code: q.title_th for q in standard().questions}
    names = ("น้อยที่สุด", "น้อย", "ปานกลาง", "มาก", "มากที่สุด")
    for question in body["satisfaction"]["questions"]:
        group = page.get_by_role("group", name=titles[question["code"]])
        for rating, (name, count) in enumerate(zip(names, question["counts"], strict=True), 1):
            await group.get_by_label(f"{rating} {name}", exact=True).fill(str(count))
    for item in standard().items:
        group = page.get_by_role("group", name=item.title_th)
        await group.get_by_label("ผ่าน", exact=True).check()
        await group.get_by_label("หลักฐาน / หมายเหตุ").fill(f"ภาพถ่ายและเอกสาร {item.code}")


async def versions_stored(system: System, center_id: str) -> int:
    conn = await asyncpg.connect(system.intake_db)
    try:
        found: int = await conn.fetchval(
            "SELECT count(*) FROM submission_versions v JOIN submissions s"
            " ON s.id = v.submission_id WHERE s.center_id = $1",
            center_id,
        )
    finally:
        await conn.close()
    return found


async def report_through_the_portal(
    system: System, browser: Browser, viewport: ViewportSize, center: Center, tag: str
) -> str:
    """The whole flow for one center; the address of its result page."""
    email = center.contact_emails[0]
    context = await browser.new_context(viewport=viewport, locale="th-TH")
    page = await context.new_page()
    await sign_in(system, page, email, tag, 0)
    await check(system, page, f"{tag}04-rounds")
    assert "Sarabun" in await fonts_drawing(page, "h1")

    await page.get_by_role("link", name="เริ่มกรอกรายงาน").click()
    await check(system, page, f"{tag}05-report-form")
    await fill_report(page)
    # The script saves the draft as one types, and says so.
    await expect(page.locator("#autosave-status")).to_contain_text("บันทึกร่างแล้ว เวลา")
    await page.get_by_role("button", name="บันทึกร่าง").click()
    await expect(page.get_by_text("บันทึกร่างรายงานแล้ว")).to_be_visible()

    await page.get_by_role("button", name="ออกจากระบบ").click()
    await page.wait_for_url("**/sign-in?notice=signed_out")
    await sign_in(system, page, email, f"{tag}again-", 1)
    await expect(page.get_by_text("มีร่างรายงานที่ยังไม่ได้ส่ง")).to_be_visible()
    await page.get_by_role("link", name="กรอกรายงานต่อ").click()
    await expect(page.get_by_label("จำนวนผู้ตอบแบบสำรวจทั้งหมด (คน)")).to_have_value("412")

    await page.get_by_role("button", name="ตรวจทานก่อนส่ง").click()
    await page.wait_for_url("**/review")
    await check(system, page, f"{tag}06-review")
    submit = page.get_by_role("button", name="ยืนยันส่งรายงาน")
    await submit.dblclick()
    await page.wait_for_url("**/versions/1?notice=received")
    await check(system, page, f"{tag}07-receipt")
    await expect(page.get_by_text(f"{ROUND}/{center.id}/v1")).to_be_visible()
    assert await versions_stored(system, center.id) == 1

    await page.get_by_role("link", name="ดูผลการประเมิน").click()
    result = page.url

    async def scored() -> bool:
        await page.reload()
        return await page.get_by_role("heading", name="รักษามาตรฐานได้").count() > 0

    await eventually(scored, bool, within=30)
    await expect(page.get_by_role("heading", name="เหตุผล")).to_have_count(0)  # none: maintained
    await check(system, page, f"{tag}08-result")

    await page.get_by_role("link", name="แก้ไขรายงาน").click()
    await expect(page.get_by_label("จำนวนผู้ตอบแบบสำรวจทั้งหมด (คน)")).to_have_value("412")
    first_item = standard().items[0]
    group = page.get_by_role("group", name=first_item.title_th)
    await group.get_by_label("ไม่ผ่าน", exact=True).check()
    await page.get_by_role("button", name="ตรวจทานก่อนส่ง").click()
    await page.get_by_role("button", name="ยืนยันส่งรายงาน").click()
    await page.wait_for_url("**/versions/2?notice=received")
    assert await versions_stored(system, center.id) == 2
    await page.goto(result)

    async def rescored() -> bool:
        await page.reload()
        return await page.get_by_role("heading", name="ไม่ผ่านการรักษามาตรฐาน").count() > 0

    await eventually(rescored, bool, within=30)
    await expect(page.get_by_text(f"ไม่ผ่านเกณฑ์บังคับข้อ {first_item.code}")).to_be_visible()
    await check(system, page, f"{tag}09-result-amended")
    await context.close()
    return result


async def test_a_center_reports_through_the_portal_on_a_desktop_and_a_phone(
    system: System,
) -> None:
    checked_before = len(system.pages_checked)
    async with chromium() as browser:
        result = await report_through_the_portal(system, browser, DESKTOP, CENTERS[0], "")
        await report_through_the_portal(system, browser, PHONE, CENTERS[1], "phone-")

        # Another center's session: the first center's pages do not exist for it.
        other = await browser.new_context(viewport=DESKTOP, locale="th-TH")
        page = await other.new_page()
        await sign_in(system, page, CENTERS[2].contact_emails[0], "other-", 0)
        answer = await page.goto(result)
        assert answer is not None and answer.status == 404
        answer = await page.goto(f"{result}/versions/1")
        assert answer is not None and answer.status == 404
        await check(system, page, "10-not-found")
    assert len(system.pages_checked) - checked_before >= 20


async def test_a_report_can_be_sent_with_the_keyboard_alone(system: System) -> None:
    center = CENTERS[3]
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=DESKTOP, locale="th-TH")).new_page()
        await page.goto(f"{system.portal}/sign-in")
        await page.keyboard.press("Tab")  # the skip link first
        await expect(page.get_by_role("link", name="ข้ามไปยังเนื้อหาหลัก")).to_be_focused()
        await page.get_by_label("อีเมล").focus()
        await page.keyboard.type(center.contact_emails[0])
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="โปรดตรวจสอบอีเมลของท่าน")).to_be_visible()
        await page.goto(await link_for(system, center.contact_emails[0], 0))
        await page.get_by_role("button", name="เข้าสู่ระบบ").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/rounds")
        await page.get_by_role("link", name="เริ่มกรอกรายงาน").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/report")

        # Through the form with Tab, typing into each box and choosing with the arrow keys.
        body: dict[str, Any] = submission_body()
        values = [str(body["satisfaction"]["respondents"])]
        for question in body["satisfaction"]["questions"]:
            values += [str(c) for c in question["counts"]]
        await page.get_by_label("จำนวนผู้ตอบแบบสำรวจทั้งหมด (คน)").focus()
        for value in values:
            await page.keyboard.type(value)
            await page.keyboard.press("Tab")
        for _ in standard().items:
            await page.keyboard.press("Space")  # "ผ่าน", the group's first choice
            await page.keyboard.press("Tab")  # past the radio group
            await page.keyboard.type("ภาพถ่ายจุดบริการ")
            await page.keyboard.press("Tab")
            await page.keyboard.press("Tab")  # past the item's file chooser (no file)
        await expect(page.get_by_role("button", name="ตรวจทานก่อนส่ง")).to_be_focused()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/review")
        await page.get_by_role("button", name="ยืนยันส่งรายงาน").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**/versions/1?notice=received")

        # Before the session's 8 hours end, the page says so (the browser's clock moved on).
        await page.clock.install()
        await page.goto(f"{system.portal}/rounds")
        await page.clock.fast_forward("07:55:00")
        warning = page.locator("#session-warning")
        await expect(warning).to_be_visible()
        await expect(warning).to_contain_text("การเข้าสู่ระบบจะหมดอายุในอีก")
    assert await versions_stored(system, center.id) == 1
