"""Evidence files on the report form in a real browser (Debian's Chromium) with the fake
intake of tests/support/fake_intake_evidence.py served over HTTP: a PNG and a PDF attached
with the script (progress bar, the list and the thumbnail updated in place), a refusal next
to the item, a file removed with the keyboard; the same without script (a plain multipart
post, the page back at the item); on a 390 x 844 phone, axe-core on every state (no serious
or critical violation). Screenshots: ``docs/screenshots/evidence-*.png``
(``GECC_SCREENSHOTS=1``) or a temporary folder."""

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Page, expect

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.e2e.test_office_browser import free_port
from tests.e2e.test_office_browser import screenshots as screenshots  # the fixture
from tests.integration.test_portal_pages import CENTERS, A
from tests.support.browser import PHONE, chromium, serious_violations
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_evidence import PDF, FakeIntakeEvidence, fake_with_evidence
from tests.support.isolation import Isolated
from tests.support.polling import eventually

C = "saraban@bangrak.go.th"  # GECC-0003: nothing sent yet
BMA = "office@bma.go.th"


def png(width: int = 48, height: int = 32) -> bytes:
    """A real PNG (a blue and yellow band), so the thumbnail is drawn."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + (b"\x12\x3c\x69" if y < height // 2 else b"\xff\xbf\x47") * width
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


class Served:
    def __init__(self, url: str, intake: FakeIntakeEvidence) -> None:
        self.url = url
        self.intake = intake

    async def sign_in(self, page: Page, email: str) -> None:
        await page.goto(f"{self.url}/sign-in/{self.intake.link_for(email)}")
        await page.get_by_role("button", name="เข้าสู่ระบบ").click()


@pytest.fixture
async def served(isolated: Isolated) -> AsyncIterator[Served]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = PortalSettings(database_url=isolated.service_url("portal"), public_url=url)
    app = create_app(settings)
    fake = fake_with_evidence(CENTERS, {A: "GECC-0001", C: "GECC-0003"}, {BMA: "PMO/BMA"})
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    running = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0.05, server.started), bool, within=20)
    app.state.intake = fake
    try:
        yield Served(url, fake)
    finally:
        server.should_exit = True
        await running


async def check(page: Page, item: str, shots: Path, name: str) -> None:
    """axe-core on the whole page; the screenshot of the item (the form is long)."""
    violations = await serious_violations(page)
    assert violations == [], f"{name}: {violations}"
    await page.locator(f"#met-{item}").screenshot(path=str(shots / f"{name}.png"))


async def tab_to(page: Page, name: str) -> None:
    """Tab forward until the control whose text starts with ``name`` has the focus."""
    for _ in range(400):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "() => (document.activeElement.innerText || document.activeElement.value || '')"
            ".replace(/\\s+/g, ' ').trim()"
        )
        if focused.startswith(name):
            return
    raise AssertionError(f"the keyboard never reached {name!r}")


async def test_files_are_attached_with_progress_and_removed_on_a_phone(
    served: Served, screenshots: Path, tmp_path: Path
) -> None:
    photo, order, notes = tmp_path / "จุดบริการ.png", tmp_path / "คำสั่งแต่งตั้ง.pdf", tmp_path / "x.pdf"
    photo.write_bytes(png())
    order.write_bytes(PDF + b"\x00" * (300 * 1024))
    notes.write_bytes(b"not a pdf at all")
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, locale="th-TH")
        page = await context.new_page()
        await served.sign_in(page, C)
        await page.goto(f"{served.url}/rounds/{ROUND}/report")
        await page.fill("#respondents", "412")

        box = page.locator("#files-P01")
        await expect(box.locator("[data-upload]")).to_be_hidden()  # the script uploads at once
        await page.locator("#upload-P01").set_input_files([str(photo), str(order)])
        await expect(box.locator("[data-upload-status]")).to_have_text("แนบไฟล์แล้ว 1 ไฟล์")
        await expect(box.locator(".file__name")).to_have_text(["จุดบริการ.png", "คำสั่งแต่งตั้ง.pdf"])
        assert await box.locator("progress").evaluate("p => p.value") == 100
        await expect(box.locator(".file__meta").nth(1)).to_have_text("PDF · 300 กิโลไบต์")
        thumb = box.locator("img.file__thumb")
        await expect(thumb).to_have_count(1)
        await box.scroll_into_view_if_needed()
        assert await thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 48
        await check(page, "P01", screenshots, "evidence-01-attached")

        await page.locator("#upload-P02").set_input_files(str(notes))
        error = page.locator("#upload-P02-error")
        refused = "x.pdf: ไม่รองรับไฟล์ชนิดนี้: แนบได้เฉพาะ PDF, JPEG, PNG หรือ WebP"
        await expect(error).to_have_text(refused)
        await expect(page.locator("#upload-P02")).to_have_attribute("aria-invalid", "true")
        await page.locator("#files-P02").scroll_into_view_if_needed()
        await check(page, "P02", screenshots, "evidence-02-refused")

        # remove the PDF with the keyboard alone
        await page.locator("#respondents").focus()
        await tab_to(page, "ลบ คำสั่งแต่งตั้ง.pdf")
        await page.keyboard.press("Enter")
        await expect(box.locator(".file__name")).to_have_text(["จุดบริการ.png"])
        await expect(box.locator("[data-upload-status]")).to_have_text("ลบไฟล์แล้ว")
        await expect(page.locator("#upload-P01")).to_be_focused()
        assert len(served.intake.evidence) == 1

        # what was typed and the files stay: the page again from the server
        await page.wait_for_timeout(2000)  # the autosave
        await page.reload()
        await expect(page.locator("#respondents")).to_have_value("412")
        await expect(box.locator(".file__name")).to_have_text(["จุดบริการ.png"])
        await context.close()


async def test_without_script_a_file_goes_with_the_form_and_the_page_returns_to_the_item(
    served: Served, screenshots: Path, tmp_path: Path
) -> None:
    order = tmp_path / "minutes.pdf"
    order.write_bytes(PDF)
    async with chromium() as browser:
        context = await browser.new_context(
            viewport=PHONE, locale="th-TH", java_script_enabled=False
        )
        page = await context.new_page()
        await served.sign_in(page, C)
        await page.goto(f"{served.url}/rounds/{ROUND}/report")
        await page.fill("#respondents", "300")
        await page.locator("#upload-P03").set_input_files(str(order))
        async with page.expect_navigation():
            await page.get_by_role("button", name="อัปโหลด (P03)").click()
        assert page.url.endswith(f"/rounds/{ROUND}/report?item=P03&added=1#files-P03"), page.url
        box = page.locator("#files-P03")
        await expect(box.locator(".file__name")).to_have_text(["minutes.pdf"])
        await expect(box.locator("[data-upload-status]")).to_have_text("แนบไฟล์แล้ว 1 ไฟล์")
        await expect(page.locator("#respondents")).to_have_value("300")  # the draft kept
        # (axe-core needs script: the same page was checked with it above)
        shot = screenshots / "evidence-03-no-script.png"
        await page.locator("#met-P03").screenshot(path=str(shot))
        async with page.expect_navigation():
            await box.get_by_role("button", name="ลบ minutes.pdf").click()
        assert page.url.endswith("removed=1#files-P03"), page.url
        await expect(box.locator(".file__name")).to_have_count(0)
        await context.close()
