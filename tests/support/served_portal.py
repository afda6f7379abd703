"""The portal served over HTTP (its real database) in front of a fake intake, for browser
tests of its pages alone; the end-to-end tests run the real intake instead."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Generic, Protocol, TypeVar

import uvicorn
from playwright.async_api import Page

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.support.fake_survey import FakeSurvey
from tests.support.isolation import Isolated
from tests.support.polling import eventually
from tests.support.services import free_port


class MailsLinks(Protocol):
    def link_for(self, email: str) -> str: ...


FakeT = TypeVar("FakeT", bound=MailsLinks)


class Served(Generic[FakeT]):
    def __init__(self, url: str, intake: FakeT, survey: FakeSurvey) -> None:
        self.url = url
        self.intake = intake
        self.survey = survey

    async def sign_in(self, page: Page, email: str) -> None:
        """The link the fake intake would have mailed, used as a person uses it."""
        await page.goto(f"{self.url}/sign-in/{self.intake.link_for(email)}")
        await page.get_by_role("button", name="เข้าสู่ระบบ").click()


@asynccontextmanager
async def served_portal(
    isolated: Isolated, fake: FakeT, survey: FakeSurvey | None = None
) -> AsyncIterator[Served[FakeT]]:
    """The portal before ``fake`` (intake) and ``survey`` (the survey service; by default
    one that knows no center and has no tally)."""
    survey = survey or FakeSurvey(set())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(PortalSettings(database_url=isolated.service_url("portal"), public_url=url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    running = asyncio.create_task(server.serve())
    await eventually(lambda: asyncio.sleep(0.05, server.started), bool, within=20)
    app.state.intake = fake
    app.state.survey = survey
    try:
        yield Served(url, fake, survey)
    finally:
        server.should_exit = True
        await running
