"""A real browser for the portal's tests: Debian's Chromium driven by Playwright (never a
browser Playwright downloads), axe-core's accessibility checks, and which font Chromium
really drew a text with (without a Thai font every glyph is a box and the tests would
still pass)."""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright

HOW_TO_GET_CHROMIUM = (
    "the browser tests need Debian's chromium and fonts-thai-tlwg: run `make install` as root"
    " on Debian (it installs them), or `apt-get install chromium fonts-thai-tlwg`; Playwright's"
    " own browser download is not used"
)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        raise AssertionError(HOW_TO_GET_CHROMIUM)
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    results = await Axe().run(page)
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def fonts_drawing(page: Page, selector: str) -> list[str]:
    """The platform fonts Chromium used for the text of the first element matching
    ``selector`` (DevTools' CSS.getPlatformFontsForNode)."""
    session = await page.context.new_cdp_session(page)
    await session.send("DOM.enable")
    await session.send("CSS.enable")
    document = await session.send("DOM.getDocument", {"depth": -1})
    node = await session.send(
        "DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector}
    )
    fonts = await session.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})
    await session.detach()
    return [f["familyName"] for f in fonts["fonts"] if f["glyphCount"] > 0]
