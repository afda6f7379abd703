"""An OPS/PMO operator runs a round through the portal in a real browser (Debian's Chromium) on
a 390 x 844 phone, with the keyboard alone, against every service as its own process: moves
the due time (a reason first), grants an extension, requests an export, finds both in the
audit log, imports an accounts file with errors (refused by row) and disables an account.
An office's session meets a 403 page there, a center's a 404 page.

Every page is checked by axe-core (no serious or critical violation) and its Thai drawn with
Sarabun; the screenshots go to ``docs/screenshots/operator-*.png`` (``GECC_SCREENSHOTS=1``).

Needs intake's side of issue 17 (the dates' ``reason``, the audit log's ids and filters,
accounts over HTTP: /work/notes/issue17-contract.md)."""

import asyncpg
from playwright.async_api import Locator, Page, expect

from services.intake.domain.accounts_file import decode_accounts, parse_accounts
from services.intake.handlers import accounts
from tests.e2e.test_portal_browser import (  # noqa: F401  (fixtures)
    CENTERS,
    ROUND,
    System,
    check,
    link_for,
    screenshots,
    system,
)
from tests.support.browser import PHONE, chromium, fonts_drawing

OPERATOR = "ops@opdc.go.th"
OFFICE = "bma@bangkok.go.th"
ACCOUNTS = f"email,role,scope\n{OPERATOR},operator,operators\n{OFFICE},office,PMO/BMA\n"
WRONG_ACCOUNTS = "email,role,scope\nnot-an-address,office,PMO/BMA\nx@y.go.th,boss,PMO/BMA\n"


async def _accounts(system: System) -> None:  # noqa: F811
    conn = await asyncpg.connect(system.intake_db)
    try:
        listed = parse_accounts(decode_accounts(ACCOUNTS.encode()))
        await accounts.import_accounts(conn, listed, "test")
    finally:
        await conn.close()


async def tab_to(page: Page, target: Locator, most: int = 80) -> None:
    """Press Tab until ``target`` has the focus, as a keyboard user moves through a page."""
    handle = await target.element_handle()
    assert handle is not None
    for _ in range(most):
        if await page.evaluate("(el) => document.activeElement === el", handle):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


async def sign_in(system: System, page: Page, email: str, count: int) -> None:  # noqa: F811
    await page.goto(f"{system.portal}/sign-in")
    await tab_to(page, page.get_by_label("อีเมล"))
    await page.keyboard.type(email)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="โปรดตรวจสอบอีเมลของท่าน")).to_be_visible()
    await page.goto(await link_for(system, email, count))
    await tab_to(page, page.get_by_role("button", name="เข้าสู่ระบบ"))
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def follow(page: Page, link: Locator) -> None:
    await tab_to(page, link)
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def test_an_operator_runs_a_round_with_the_keyboard_on_a_phone(
    system: System,  # noqa: F811  (the fixture of part 1's browser test)
) -> None:
    await _accounts(system)
    async with chromium() as browser:
        context = await browser.new_context(viewport=PHONE, locale="th-TH")
        page = await context.new_page()
        await sign_in(system, page, OPERATOR, 0)
        await page.goto(f"{system.portal}/operator/rounds")
        await expect(page.get_by_role("heading", name="รอบการรายงาน", exact=True)).to_be_visible()
        assert "Sarabun" in await fonts_drawing(page, "h1")
        await check(system, page, "operator-01-rounds")

        # The round's dates: a change without a reason is refused next to the field.
        await follow(page, page.get_by_role("link", name=f"รอบ 6 เดือน ปีงบประมาณ 2570 ({ROUND})"))
        await tab_to(page, page.locator("#due_at-time"))
        await page.keyboard.press("ArrowUp")  # the due time one hour later
        await tab_to(page, page.get_by_role("button", name="บันทึกกำหนดการใหม่"))
        await page.keyboard.press("Enter")
        await expect(page.locator("#reason-error")).to_contain_text("โปรดระบุเหตุผล")
        await check(system, page, "operator-02-round-reason-missing")
        await tab_to(page, page.get_by_label("เหตุผล"))
        await page.keyboard.type("เลื่อนกำหนดส่งตามหนังสือสั่งการ")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("บันทึกกำหนดการใหม่ของรอบแล้ว")
        await check(system, page, "operator-03-round")

        # An extension for one center, until the round's closing day (the form's default).
        await follow(page, page.get_by_role("link", name="การขยายเวลา"))
        await tab_to(page, page.get_by_label("รหัสศูนย์"))
        await page.keyboard.type(CENTERS[1].id.lower())
        await tab_to(page, page.get_by_label("เหตุผล"))
        await page.keyboard.type("น้ำท่วมสำนักงาน")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("ขยายเวลาให้ศูนย์แล้ว")
        row = page.get_by_role("row").filter(has_text=CENTERS[1].id)
        await expect(row).to_contain_text("น้ำท่วมสำนักงาน")
        await expect(row).to_contain_text(OPERATOR)
        await check(system, page, "operator-04-extensions")

        # An export, requested.
        await follow(page, page.get_by_role("link", name="การส่งออกข้อมูล"))
        await tab_to(page, page.get_by_role("button", name="ขอส่งออกข้อมูลตอนนี้"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text("ส่งคำขอส่งออกข้อมูลแล้ว")
        await expect(page.get_by_role("row").filter(has_text=OPERATOR)).to_have_count(1)
        await check(system, page, "operator-05-exports")

        # Both in the audit log, found by target.
        await follow(page, page.get_by_role("link", name="บันทึกการใช้งาน"))
        await tab_to(page, page.get_by_label("รายการที่ถูกกระทำ"))
        await page.keyboard.type(f"round:{ROUND}")
        await page.keyboard.press("Enter")
        await page.wait_for_load_state()
        entries = page.locator(".entry")
        await expect(entries.filter(has_text="extension.grant")).to_have_count(1)
        await expect(entries.filter(has_text="export.request")).to_have_count(1)
        await expect(entries.filter(has_text="round.change_dates")).to_have_count(1)
        await check(system, page, "operator-06-audit")

        # Accounts: a file with errors is refused by row, nothing imported.
        await follow(page, page.get_by_role("link", name="บัญชีผู้ใช้", exact=True))
        await check(system, page, "operator-07-accounts")
        await follow(page, page.get_by_role("link", name="นำเข้าบัญชีผู้ใช้จากไฟล์"))
        await page.get_by_label("ไฟล์บัญชีผู้ใช้ (CSV)").set_input_files(
            {"name": "accounts.csv", "mimeType": "text/csv", "buffer": WRONG_ACCOUNTS.encode()}
        )
        await tab_to(page, page.get_by_role("button", name="นำเข้า", exact=True))
        await page.keyboard.press("Enter")
        await expect(page.locator("#import-errors tbody tr")).to_have_count(2)
        await expect(page.locator("#import-errors")).to_contain_text("email")
        await check(system, page, "operator-08-import-errors")

        # Disable a center's account, after its confirmation.
        victim = CENTERS[3].contact_emails[0]
        await page.goto(f"{system.portal}/operator/accounts?q={victim}")
        await follow(page, page.get_by_role("link", name=f"ปิดการใช้งาน {victim}"))
        await check(system, page, "operator-09-disable")
        await tab_to(page, page.get_by_label("เหตุผล"))
        await page.keyboard.type("ย้ายหน่วยงาน")
        await tab_to(page, page.get_by_role("button", name="ยืนยันปิดการใช้งาน"))
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("status")).to_contain_text(f"ปิดการใช้งานบัญชี {victim} แล้ว")
        await expect(page.get_by_role("row").filter(has_text=victim)).to_contain_text(
            "ปิดการใช้งานแล้ว"
        )
        await check(system, page, "operator-10-disabled")
        await context.close()

        # An office's session: 403; a center's: 404.
        office = await (await browser.new_context(viewport=PHONE, locale="th-TH")).new_page()
        await sign_in(system, office, OFFICE, 0)
        answer = await office.goto(f"{system.portal}/operator/rounds")
        assert answer is not None and answer.status == 403
        await expect(office.get_by_role("heading", name="ไม่มีสิทธิ์เข้าถึงหน้านี้")).to_be_visible()
        await check(system, office, "operator-11-office-forbidden")
        center = await (await browser.new_context(viewport=PHONE, locale="th-TH")).new_page()
        await sign_in(system, center, CENTERS[0].contact_emails[0], 0)
        answer = await center.goto(f"{system.portal}/operator/audit")
        assert answer is not None and answer.status == 404
