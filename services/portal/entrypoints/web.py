"""What every page shares: the signed-in session (if any), the language, the form token and
rendering a template (the headers every answer carries: shared/service/browser_security.py).

Cookies: ``gecc_session`` (the session, 8 h at most), ``gecc_browser`` (this browser, to
give back a form posted after its session ended), ``gecc_form`` (the form token before
anyone signs in), ``gecc_lang``. All HttpOnly and SameSite=Lax, Secure unless the portal is
served on loopback. Every form carries a token checked on POST: derived from the session's
secret once signed in, else the ``gecc_form`` cookie's value (double submit).
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from services.portal.adapters.repository import Session
from services.portal.domain.evidence import size_parts
from services.portal.entrypoints import i18n
from services.portal.entrypoints.i18n import Catalogue, Locale
from shared.service.browser_security import secure_cookies

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SESSION_COOKIE = "gecc_session"
BROWSER_COOKIE = "gecc_browser"
FORM_COOKIE = "gecc_form"
LANG_COOKIE = "gecc_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def text_fields(form: FormData) -> dict[str, str]:
    """A posted form's text fields (its files left out)."""
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def posted_fields(request: Request) -> dict[str, str]:
    return text_fields(await request.form())


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        auto_reload=False,  # templates change with a deployment, not while serving
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@dataclass
class Page:
    """One request as the pages see it."""

    request: Request
    locale: Locale
    session: Session | None
    browser: str
    form_token: str
    # People's time (sessions, drafts, kept forms) is real time; the rounds' dates are read
    # on the services' clock, which demos and some tests accelerate.
    now: datetime
    round_time: datetime

    @property
    def csrf(self) -> str:
        """The token every form of this page carries (before sign-in: ``form_token``)."""
        if self.session is not None:
            return hmac.new(self.session.csrf_secret, b"form", "sha256").hexdigest()
        return self.form_token

    def csrf_ok(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given, self.csrf)

    def form_token_ok(self, given: str | None) -> bool:
        """The token of a form shown before sign-in (the sign-in link's button), which a
        session begun meanwhile (a double click) does not change."""
        return given is not None and hmac.compare_digest(given, self.form_token)

    def t(self, key: str, **params: Any) -> str:
        catalogue: Catalogue = self.request.app.state.catalogue
        return catalogue.text(self.locale, key, **params)

    def render(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.fragment(template, **context)
        return self.with_cookies(HTMLResponse(html, status_code=status))

    def fragment(self, template: str, **context: Any) -> str:
        """A template rendered as a page's part (or a whole page)."""
        env: jinja2.Environment = self.request.app.state.templates
        settings = self.request.app.state.settings
        return env.get_template(template).render(
            page=self,
            t=self.t,
            number=partial(i18n.number, locale=self.locale),
            percent=partial(i18n.percent, locale=self.locale),
            date=partial(i18n.date, locale=self.locale),
            day=partial(i18n.day, locale=self.locale),
            date_time=partial(i18n.date_time, locale=self.locale),
            warning_minutes=settings.session_warning_minutes,
            file_size=self.file_size,
            **context,
        )

    def file_size(self, size: int) -> str:
        """``1.5 เมกะไบต์`` / ``1.5 MB``."""
        value, unit = size_parts(size)
        return f"{value} {self.t(unit)}"

    def redirect(self, url: str) -> RedirectResponse:
        return self.with_cookies(RedirectResponse(url, status_code=303))

    def with_cookies(self, response: Response) -> Any:
        """The cookies this browser keeps between pages (set when it had none)."""
        secure = secure_cookies(self.request.app.state.settings.public_url)
        cookies = self.request.cookies
        if cookies.get(BROWSER_COOKIE) != self.browser:
            response.set_cookie(
                BROWSER_COOKIE,
                self.browser,
                max_age=400 * 86400,
                httponly=True,
                samesite="lax",
                secure=secure,
            )
        if cookies.get(FORM_COOKIE) != self.form_token:
            response.set_cookie(
                FORM_COOKIE, self.form_token, httponly=True, samesite="lax", secure=secure
            )
        return response

    def set_session(self, response: Response, cookie: str, expires_at: datetime) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            expires=expires_at,
            httponly=True,
            samesite="lax",
            secure=secure_cookies(self.request.app.state.settings.public_url),
        )

    @property
    def client(self) -> str:
        return self.request.client.host if self.request.client else ""


async def page_of(request: Request) -> Page:
    """The dependency every page takes."""
    state = request.app.state
    now = datetime.now(UTC)
    session = None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = await state.sessions.find(cookie, now)
    return Page(
        request=request,
        locale=i18n.locale_of(request.cookies.get(LANG_COOKIE)),
        session=session,
        browser=request.cookies.get(BROWSER_COOKIE) or secrets.token_urlsafe(24),
        form_token=request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(24),
        now=now,
        round_time=state.runtime.clock.now(),
    )


def safe_next(value: str | None) -> str:
    """A place on this site to go back to (never another site's address)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def home_of(session: Session | None) -> str:
    """Where a person's pages start: a center's rounds; an office's (and for now an
    operator's) completeness."""
    if session is None:
        return "/sign-in"
    return "/rounds" if session.kind == "center" else "/office"
