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

import asyncpg
import pytest
from playwright.async_api import Page, expect

from gecc import mailsink
from services.intake.domain.accounts import Scope
from services.intake.domain.accounts_file import ListedMembership
from services.intake.handlers import accounts
from shared.object_storage import ObjectStorageConfig
from tests.e2e.test_office_browser import screenshots as screenshots  # the fixture
from tests.e2e.test_portal_browser import CENTERS as REGISTRY
from tests.e2e.test_portal_browser import System, _registry, fill_report, link_for
from tests.integration.test_portal_pages import CENTERS, A
from tests.support.browser import PHONE, chromium, serious_violations
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_evidence import PDF, FakeIntakeEvidence, fake_with_evidence
from tests.support.isolation import Isolated
from tests.support.served_portal import Served, served_portal
from tests.support.services import running_services, wait_for_consumers

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


@pytest.fixture
async def served(isolated: Isolated) -> AsyncIterator[Served[FakeIntakeEvidence]]:
    fake = fake_with_evidence(CENTERS, {A: "GECC-0001", C: "GECC-0003"}, {BMA: "PMO/BMA"})
    async with served_portal(isolated, fake) as portal:
        yield portal


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
        await expect(box.locator(".file__name")).to_have_text(["จุดบริการ.png", "คำสั่งแต่งตั้ง.pdf"])
        await expect(box.locator("[data-upload-status]")).to_have_text("แนบไฟล์แล้ว 2 ไฟล์")
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
        await expect(page.locator("#upload-P02-status")).to_have_text("")
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
        # Enter in a box still means "review" (not the first item's upload button)
        async with page.expect_navigation():
            await page.locator("#respondents").press("Enter")
        assert page.url.endswith(f"/rounds/{ROUND}/report"), page.url
        await expect(page.locator("#error-summary")).to_be_visible()
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


@pytest.fixture
async def stack(
    isolated: Isolated, tmp_path: Path, object_storage_config: ObjectStorageConfig
) -> AsyncIterator[dict[str, str]]:
    """Every service on the real S3 server, the portal browser test's registry (four BMA
    districts) and the BMA's office account."""
    mail = tmp_path / "mail"
    sink = await mailsink.serve(mail, "127.0.0.1", 0)
    config = object_storage_config
    env = {
        "GECC_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "GECC_NOTIFIER_SMTP_PORT": str(mailsink.bound_port(sink)),
        "GECC_S3_ENDPOINT": config.endpoint,
        "GECC_S3_BUCKET": config.bucket,
        "GECC_S3_ACCESS_KEY": config.access_key,
        "GECC_S3_SECRET_KEY": config.secret_key,
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
            finally:
                await conn.close()
            urls["mail"], urls["intake_db"] = str(mail), database
            yield urls
    finally:
        sink.close()


async def sign_in_by_mail(system: System, page: Page, email: str) -> None:
    mailbox = mailsink.read_mailbox(system.mail) if system.mail.exists() else []
    sent = len([m for m in mailbox if m["X-GECC-Kind"] == "sign_in" and m["To"] == email])
    await page.goto(f"{system.portal}/sign-in")
    await page.get_by_label("อีเมล").fill(email)
    await page.get_by_role("button", name="ส่งลิงก์เข้าสู่ระบบ").click()
    await expect(page.get_by_role("heading", name="โปรดตรวจสอบอีเมลของท่าน")).to_be_visible()
    await page.goto(await link_for(system, email, sent))
    await page.get_by_role("button", name="เข้าสู่ระบบ").click()


async def test_a_center_attaches_files_and_its_office_opens_them_with_the_real_intake(
    stack: dict[str, str], tmp_path: Path, screenshots: Path
) -> None:
    """The portal, the real intake and the S3 server: a photo and a PDF attached to two
    items, sent, stored with the version; the BMA office opens them; another center cannot."""
    system = System(stack["portal"], Path(stack["mail"]), stack["intake_db"], tmp_path)
    center, other = REGISTRY[0], REGISTRY[1]
    photo, order, fake_pdf = tmp_path / "ป้าย.png", tmp_path / "คำสั่ง.pdf", tmp_path / "x.pdf"
    photo.write_bytes(png())
    fake_pdf.write_bytes(b"GIF89a" + b"\x00" * 32)
    order.write_bytes(PDF + b"\x00" * (2 * 1024 * 1024))  # 2 MiB: spooled to disk
    async with chromium() as browser:
        page = await (await browser.new_context(viewport=PHONE, locale="th-TH")).new_page()
        await sign_in_by_mail(system, page, center.contact_emails[0])
        await page.wait_for_url("**/rounds")
        await page.goto(f"{system.portal}/rounds/{ROUND}/report")
        await fill_report(page)
        await page.locator("#upload-P01").set_input_files(str(photo))
        await expect(page.locator("#files-P01 .file__name")).to_have_text(["ป้าย.png"])
        await page.locator("#upload-P02").set_input_files(str(order))
        await expect(page.locator("#files-P02 .file__name")).to_have_text(["คำสั่ง.pdf"])
        await expect(page.locator("#files-P02 .file__meta")).to_have_text("PDF · 2.0 เมกะไบต์")
        thumb = page.locator("#files-P01 img.file__thumb")
        await thumb.scroll_into_view_if_needed()
        assert await thumb.evaluate("img => img.decode().then(() => img.naturalWidth)") == 48
        await page.locator("#upload-P03").set_input_files(str(fake_pdf))
        await expect(page.locator("#upload-P03-error")).to_contain_text("ไม่รองรับไฟล์ชนิดนี้")
        assert await serious_violations(page) == []

        await page.get_by_role("button", name="ตรวจทานก่อนส่ง").click()
        await page.wait_for_url("**/review")
        await expect(page.locator(".file__name")).to_have_text(["ป้าย.png", "คำสั่ง.pdf"])
        await page.get_by_role("button", name="ยืนยันส่งรายงาน").click()
        await page.wait_for_url("**/versions/1?notice=received")

        conn = await asyncpg.connect(stack["intake_db"])
        try:
            stored = await conn.fetch(
                "SELECT f.id::text AS id, f.item_code, f.sha256 FROM evidence_files f"
                " WHERE f.center_id = $1 ORDER BY f.item_code",
                center.id,
            )
        finally:
            await conn.close()
        assert [row["item_code"] for row in stored] == ["P01", "P02"]
        order_id = stored[1]["id"]
        own = await page.request.get(f"{system.portal}/evidence/{order_id}")
        assert own.status == 200 and await own.body() == order.read_bytes()

        office = await (await browser.new_context(viewport=PHONE, locale="th-TH")).new_page()
        await sign_in_by_mail(system, office, BMA)
        await office.goto(f"{system.portal}/centers/{center.id}/rounds/{ROUND}")
        await expect(office.locator(".file__name")).to_have_text(["ป้าย.png", "คำสั่ง.pdf"])
        assert await serious_violations(office) == []
        first_area = office.locator(".checklist").first
        office_thumb = first_area.locator("img.file__thumb")
        await office_thumb.scroll_into_view_if_needed()
        assert await office_thumb.evaluate("i => i.decode().then(() => i.naturalWidth)") == 48
        await first_area.screenshot(path=str(screenshots / "evidence-04-office.png"))
        async with office.expect_download() as download_info:
            await office.get_by_role("link", name="คำสั่ง.pdf").click()
        download = await download_info.value
        assert download.suggested_filename == "คำสั่ง.pdf"
        saved = await download.path()
        assert await asyncio.to_thread(saved.read_bytes) == order.read_bytes()
        answer = await office.request.get(f"{system.portal}/evidence/{order_id}")
        assert answer.headers["content-disposition"].startswith("attachment;")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["etag"] == f'"{stored[1]["sha256"]}"'

        stranger = await (await browser.new_context(viewport=PHONE, locale="th-TH")).new_page()
        await sign_in_by_mail(system, stranger, other.contact_emails[0])
        await stranger.wait_for_url("**/rounds")
        refused = await stranger.request.get(f"{system.portal}/evidence/{order_id}")
        assert refused.status == 404 and await refused.body() != order.read_bytes()
