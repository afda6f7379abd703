import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.portal.adapters import repository
from services.portal.adapters.intake import IntakeClient, IntakeUnavailable, NotFound, SessionEnded
from services.portal.adapters.recent_sessions import RecentSessions
from services.portal.adapters.survey import SurveyClient, SurveyUnavailable
from services.portal.entrypoints import evidence, offices, operators, reports, sign_in, survey
from services.portal.entrypoints.i18n import Catalogue
from services.portal.entrypoints.reports import SignInFirst
from services.portal.entrypoints.web import SESSION_COOKIE, environment, page_of
from services.portal.metrics import PortalMetrics
from services.portal.settings import PortalSettings
from shared.messaging.runtime import ServiceRuntime
from shared.rate_limit import RateLimiter
from shared.service.browser_security import SecurityHeaders, security_headers
from shared.service.http import service_app

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Wiring:
    runtime: ServiceRuntime
    metrics: PortalMetrics


def wire(settings: PortalSettings) -> Wiring:
    runtime = ServiceRuntime(settings, messaging=False)
    metrics = PortalMetrics(runtime.registry)

    async def forget_ended(runtime: ServiceRuntime) -> None:
        while True:
            async with runtime.pool.acquire() as conn:
                await repository.forget_ended(conn, datetime.now(UTC))
            await asyncio.sleep(600)

    runtime.in_background("forget-ended-sessions", forget_ended)
    return Wiring(runtime, metrics)


def build_runtime(settings: PortalSettings) -> ServiceRuntime:
    return wire(settings).runtime


def create_app(settings: PortalSettings) -> FastAPI:
    wiring = wire(settings)
    runtime, metrics = wiring.runtime, wiring.metrics
    app = service_app(
        runtime,
        "GECC portal",
        "The web pages center staff, parent offices and operators use (Thai first).",
    )
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.metrics = metrics

    async def connect_to_intake(_: ServiceRuntime) -> None:
        http = aiohttp.ClientSession(
            base_url=settings.intake_url, timeout=aiohttp.ClientTimeout(total=15)
        )
        runtime.on_stop(http.close)
        app.state.intake = IntakeClient(http, settings.client_secret)

    async def connect_to_survey(_: ServiceRuntime) -> None:
        http = aiohttp.ClientSession(
            base_url=settings.survey_url, timeout=aiohttp.ClientTimeout(total=30)
        )
        runtime.on_stop(http.close)
        app.state.survey = SurveyClient(http, settings.survey_read_secret)

    async def keep_recent_sessions(_: ServiceRuntime) -> None:
        app.state.sessions = RecentSessions(runtime.pool, settings.session_recheck_seconds)

    runtime.on_start(connect_to_intake)
    runtime.on_start(connect_to_survey)
    runtime.on_start(keep_recent_sessions)
    app.state.catalogue = Catalogue.load()
    app.state.templates = environment()
    app.state.sign_in_limiter = RateLimiter(
        per_minute=settings.sign_in_per_minute, burst=settings.sign_in_burst
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(sign_in.router)
    app.include_router(reports.router)
    app.include_router(evidence.router)
    app.include_router(offices.router)
    app.include_router(operators.router)
    app.include_router(survey.router)
    app.add_exception_handler(operators.Forbidden, operators.forbidden_page)
    app.add_exception_handler(operators.FormExpired, operators.form_expired_page)
    install_error_pages(app)
    app.add_middleware(PageTimes, metrics=metrics)
    app.add_middleware(SecurityHeaders, headers=security_headers())
    return app


class PageTimes:
    """``gecc_portal_page_seconds`` by route template and status class."""

    def __init__(self, app: ASGIApp, metrics: PortalMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            route = getattr(scope.get("route"), "path", "other")
            self.metrics.pages.labels(route, f"{status // 100}xx").observe(
                time.perf_counter() - started
            )


def install_error_pages(app: FastAPI) -> None:
    """Errors as pages in the reader's language, never a bare framework answer."""

    async def sign_in_first(request: Request, error: Exception) -> Response:
        assert isinstance(error, SignInFirst)
        notice = f"&notice={error.notice}" if error.notice else ""
        return RedirectResponse(f"/sign-in?next={error.next}{notice}", status_code=303)

    async def session_ended(request: Request, error: Exception) -> Response:
        response = RedirectResponse(
            f"/sign-in?notice=session_ended&next={request.url.path}", status_code=303
        )
        response.delete_cookie(SESSION_COOKIE)
        return response

    async def not_found(request: Request, error: Exception) -> Response:
        page = await page_of(request)
        return page.render("error.html", 404, problem="not_found")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        page = await page_of(request)
        problem = "not_found" if error.status_code == 404 else "bad_request"
        return page.render("error.html", error.status_code, problem=problem)

    async def unavailable(request: Request, error: Exception) -> Response:
        log.warning("%s: %s", type(error).__name__, error)
        page = await page_of(request)
        response = page.render("error.html", 503, problem="unavailable")
        response.headers["Retry-After"] = "10"
        return response

    app.add_exception_handler(SignInFirst, sign_in_first)
    app.add_exception_handler(SessionEnded, session_ended)
    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(IntakeUnavailable, unavailable)
    app.add_exception_handler(SurveyUnavailable, unavailable)
