"""Signing in without a password: an address, a one-time link by e-mail, a button.

The answer to an address is the same whether or not it has an account. Opening the link
shows a button and only the button's POST uses the link up, so that a mail scanner that
opens links does not spend it."""

import math
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from services.portal.adapters.intake import ChooseScope, IntakeClient, Refused
from services.portal.entrypoints import i18n
from services.portal.entrypoints.web import (
    LANG_COOKIE,
    SESSION_COOKIE,
    Page,
    home_of,
    page_of,
    safe_next,
)
from services.portal.handlers import sign_in as handlers
from shared.email_addresses import NotAnEmailAddress, normalized_email
from shared.rate_limit import RateLimiter
from shared.service.browser_security import secure_cookies

router = APIRouter(include_in_schema=False)
Current = Annotated[Page, Depends(page_of)]


def _intake(page: Page) -> IntakeClient:
    found: IntakeClient = page.request.app.state.intake
    return found


@router.get("/sign-in")
async def sign_in_form(page: Current, next: str = "/", notice: str = "") -> Response:
    if page.session is not None and not notice:
        return page.redirect(safe_next(next))
    return page.render("sign_in.html", next=safe_next(next), notice=notice, email="", error="")


@router.post("/sign-in")
async def ask_for_link(
    page: Current,
    email: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.render(
            "sign_in.html",
            400,
            next=safe_next(next),
            notice="form_expired",
            email=email,
            error="",
        )
    try:
        address = normalized_email(email.strip())
    except NotAnEmailAddress:
        error = "error.email_required" if not email.strip() else "error.email_invalid"
        return page.render(
            "sign_in.html", 422, next=safe_next(next), notice="", email=email, error=error
        )
    limiter: RateLimiter = page.request.app.state.sign_in_limiter
    wait = limiter.retry_after(page.client, time.monotonic())
    if wait > 0:
        return _too_many(page, wait)
    try:
        await _intake(page).request_sign_in(address, page.locale, page.client)
    except Refused as refusal:
        if refusal.status == 429:
            return _too_many(page, 60)
        raise
    page.request.app.state.metrics.sign_ins.labels("requested").inc()
    return page.redirect(f"/sign-in/sent?next={safe_next(next)}")


@router.get("/sign-in/sent")
async def link_sent(page: Current, next: str = "/") -> Response:
    return page.render("sign_in_sent.html", next=safe_next(next))


@router.get("/sign-in/{code}")
async def confirm(page: Current, code: str, next: str = "") -> Response:
    return page.render(
        "sign_in_confirm.html", code=code, next=_next(next), scopes=[], token=page.form_token
    )


@router.post("/sign-in/{code}")
async def use_link(
    page: Current,
    code: str,
    next: Annotated[str, Form()] = "",
    scope: Annotated[str | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not page.form_token_ok(csrf_token):
        return page.render(
            "sign_in_confirm.html",
            400,
            code=code,
            next=_next(next),
            scopes=[],
            token=page.form_token,
            notice="form_expired",
        )
    state = page.request.app.state
    try:
        cookie, session, restored = await handlers.sign_in(
            state.runtime.pool,
            _intake(page),
            code,
            scope or None,
            page.client,
            page.request.cookies.get("gecc_browser"),
            page.now,
        )
    except ChooseScope as choice:
        return page.render(
            "sign_in_confirm.html",
            code=code,
            next=_next(next),
            scopes=choice.scopes,
            token=page.form_token,
        )
    except Refused as refusal:
        if refusal.status not in (410, 422):
            raise
        if page.session is not None:  # the same button pressed twice: already signed in
            return page.redirect(safe_next(next) if next else home_of(page.session))
        state.metrics.sign_ins.labels("link_refused").inc()
        return page.render("link_invalid.html", 410)
    state.metrics.sign_ins.labels("signed_in").inc()
    page.session = session
    target = safe_next(next) if next else home_of(session)
    if restored:
        target = f"/rounds/{restored[0]}/report?notice=restored"
    response = page.redirect(target)
    page.set_session(response, cookie, session.expires_at)
    return response


@router.post("/sign-out")
async def sign_out(page: Current, csrf_token: Annotated[str, Form()] = "") -> Response:
    cookie = page.request.cookies.get(SESSION_COOKIE)
    if cookie and page.csrf_ok(csrf_token):
        await handlers.sign_out(page.request.app.state.runtime.pool, _intake(page), cookie)
        page.request.app.state.sessions.forget(cookie)
        page.request.app.state.metrics.sign_ins.labels("signed_out").inc()
    response = page.redirect("/sign-in?notice=signed_out")
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{locale}")
async def choose_language(request: Request, locale: str, next: str = "/") -> Response:
    response = Response(status_code=303, headers={"Location": safe_next(next)})
    response.set_cookie(
        LANG_COOKIE,
        i18n.locale_of(locale),
        max_age=400 * 86400,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request.app.state.settings.public_url),
    )
    return response


def _too_many(page: Page, wait: float) -> Response:
    page.request.app.state.metrics.sign_ins.labels("throttled").inc()
    response = page.render("too_many.html", 429, minutes=max(1, math.ceil(wait / 60)))
    response.headers["Retry-After"] = str(math.ceil(wait))
    return response


def _next(value: str) -> str:
    """Where to go after signing in: asked for, else (empty) the person's home."""
    return safe_next(value) if value else ""
