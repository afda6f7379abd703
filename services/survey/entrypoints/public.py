"""The citizens' pages, ``/s/{center}`` (GET the form, POST the answers) and
``/s/{center}/thanks``, answered in front of the framework: this is the hot path, so it
parses only what it needs (the cookie header, a small url-encoded form) and never waits for
the database.

Cookies: ``gecc_device`` (a random id for this phone, 400 days) and ``gecc_survey_done``
(today's Bangkok date and the centers answered today), both HttpOnly, SameSite=Lax, Secure
unless the public address is loopback."""

import contextlib
import logging
import re
import secrets
import time
from collections.abc import Mapping
from datetime import date
from urllib.parse import unquote_plus

from starlette.types import Receive, Scope, Send

from services.survey.domain.directory import Center, bangkok_day
from services.survey.domain.responses import answers_of
from services.survey.entrypoints.pages import Pages
from services.survey.handlers.responses import Desk, Outcome, Result
from services.survey.metrics import SurveyMetrics
from shared.rate_limit import RateLimiter
from shared.service.browser_security import Headers, secure_cookies

log = logging.getLogger(__name__)
PREFIX = "/s/"
DEVICE_COOKIE = "gecc_device"
DONE_COOKIE = "gecc_survey_done"
MAX_FORM_BYTES = 8192
RETRY_SECONDS = 10
DEVICE_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


def cookies_of(scope: Scope) -> dict[str, str]:
    for name, value in scope["headers"]:
        if name == b"cookie":
            found: dict[str, str] = {}
            for part in value.decode("latin-1").split(";"):
                key, _, val = part.strip().partition("=")
                found.setdefault(key, val)
            return found
    return {}


def form_of(body: str) -> dict[str, str]:
    """An url-encoded form's fields (the first of a name counts; at most 64), decoded only
    where they need it: the page's own fields never do."""
    fields: dict[str, str] = {}
    for part in body.split("&", 64)[:64]:
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        fields.setdefault(name, value)
    return fields


def _answered_today(cookies: Mapping[str, str], today: date) -> list[str]:
    """The centers the done cookie says this phone answered today (none on another day)."""
    day, _, centers = cookies.get(DONE_COOKIE, "").partition("|")
    return [c for c in centers.split("|") if c] if day == today.isoformat() else []


class PublicPages:
    """The ASGI app of ``/s/...``."""

    def __init__(
        self,
        desk: Desk,
        pages: Pages,
        limiter: RateLimiter,
        metrics: SurveyMetrics,
        public_url: str,
        security: Headers,
    ) -> None:
        """``security``: the headers the app's other answers carry too."""
        self.desk = desk
        self.pages = pages
        self.limiter = limiter
        self.metrics = metrics
        self.headers = [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"cache-control", b"no-store"),
            *security,
        ]
        secure = "; Secure" if secure_cookies(public_url) else ""
        self.cookie_flags = f"; Path=/; HttpOnly; SameSite=Lax{secure}"
        self.refused = {
            outcome: metrics.refusals.labels(outcome.value)
            for outcome in Outcome
            if outcome is not Outcome.ACCEPTED
        }
        self.rate_limited = metrics.refusals.labels("rate_limited")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._page(scope, receive, send)
        except Exception:  # never a bare framework answer; the log says what went wrong
            log.exception("survey page %s %s failed", scope["method"], scope["path"])
            with contextlib.suppress(Exception):
                await self._send(send, 500, self.pages.message("error"))

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        code, _, rest = path[len(PREFIX) :].partition("/")
        center = self.desk.directory.centers.get(code)
        method = scope["method"]
        if rest not in ("", "thanks") or method not in ("GET", "HEAD", "POST"):
            status = 404 if rest not in ("", "thanks") else 405
            await self._send(send, status, self.pages.message("not_found"))
            return
        if rest == "thanks" and method == "POST":
            await self._send(send, 405, self.pages.message("not_found"))
            return
        if center is None:
            await self._send(send, 404, self.pages.message("not_found"))
            return
        cookies = cookies_of(scope)
        if rest == "thanks":
            await self._send(send, 200, self.pages.message("thanks", center))
        elif method == "POST":
            await self._post(scope, receive, send, center, cookies)
        else:
            await self._get(send, center, cookies)

    async def _get(self, send: Send, center: Center, cookies: Mapping[str, str]) -> None:
        today = self.desk.today()
        if self._answered(cookies, center, today):
            await self._send(send, 200, self.pages.message("repeat", center))
            return
        if not self.desk.directory.rounds_on(today):
            await self._send(send, 200, self.pages.message("closed", center))
            return
        device, set_device = self._device(cookies)
        token = self.desk.tokens.issue(center.center_id, device, time.time())
        await self._send(send, 200, self.pages.blank_form(center, token), set_device)

    async def _post(
        self, scope: Scope, receive: Receive, send: Send, center: Center, cookies: dict[str, str]
    ) -> None:
        body = await self._read_form(scope, receive)
        if body is None:
            await self._send(send, 413, self.pages.message("too_large", center))
            return
        form = form_of(body)
        now = time.time()
        wait = self.limiter.retry_after(scope["client"][0] if scope.get("client") else "", now)
        if wait:
            self.rate_limited.inc()
            device, set_device = self._device(cookies)
            page = self._filled(center, device, form, "survey.too_many", now)
            retry = str(max(1, round(wait))).encode()
            await self._send(send, 429, page, set_device, [(b"retry-after", retry)])
            return
        device, set_device = self._device(cookies)
        answered_at = self.desk.clock.now()
        today = bangkok_day(answered_at)
        answered = self._answered(cookies, center, today)
        result = await self.desk.accept(center, device, form, answered, now, answered_at)
        await self._answer(send, center, device, set_device, form, result, today, cookies, now)

    async def _answer(
        self,
        send: Send,
        center: Center,
        device: str,
        set_device: list[tuple[bytes, bytes]],
        form: Mapping[str, str],
        result: Result,
        today: date,
        cookies: Mapping[str, str],
        now: float,
    ) -> None:
        outcome = result.outcome
        if outcome is Outcome.ACCEPTED:
            self.metrics.responses.inc()
        else:
            self.refused[outcome].inc()
        thanks = f"{PREFIX}{center.center_id}/thanks".encode()
        if outcome in (Outcome.ACCEPTED, Outcome.HONEYPOT, Outcome.TOKEN_USED):
            done = self._done_cookie(cookies, center, today) if outcome is Outcome.ACCEPTED else []
            await self._send(send, 303, b"", set_device + done, [(b"location", thanks)])
        elif outcome is Outcome.REPEAT_TODAY:
            await self._send(send, 200, self.pages.message("repeat", center), set_device)
        elif outcome is Outcome.NO_ROUND:
            await self._send(send, 200, self.pages.message("closed", center), set_device)
        elif outcome is Outcome.KAFKA_UNAVAILABLE:
            page = self._filled(center, device, form, "survey.unavailable", now)
            retry = [(b"retry-after", str(RETRY_SECONDS).encode())]
            await self._send(send, 503, page, set_device, retry)
        elif outcome is Outcome.INCOMPLETE:
            message = self.pages.text("survey.incomplete", count=len(result.missing))
            token = self.desk.tokens.issue(center.center_id, device, now)
            page = self.pages.form(center, token, result.ratings, result.missing, message)
            await self._send(send, 422, page, set_device)
        else:  # the token: expired, or not this page's (the device cookie lost, say)
            key = "survey.expired" if outcome is Outcome.TOKEN_EXPIRED else "survey.invalid"
            page = self._filled(center, device, form, key, now, result.missing)
            status = 200 if outcome is Outcome.TOKEN_EXPIRED else 400
            await self._send(send, status, page, set_device)

    def _filled(
        self,
        center: Center,
        device: str,
        form: Mapping[str, str],
        key: str,
        now: float,
        missing: tuple[str, ...] = (),
    ) -> bytes:
        """The form again with the citizen's answers and a fresh token."""
        ratings = answers_of(form, self.desk.questions).ratings
        token = self.desk.tokens.issue(center.center_id, device, now)
        return self.pages.form(center, token, ratings, missing, self.pages.text(key))

    def _device(self, cookies: Mapping[str, str]) -> tuple[str, list[tuple[bytes, bytes]]]:
        device = cookies.get(DEVICE_COOKIE, "")
        if DEVICE_ID.fullmatch(device):
            return device, []
        device = secrets.token_urlsafe(16)
        cookie = f"{DEVICE_COOKIE}={device}; Max-Age={400 * 86400}{self.cookie_flags}"
        return device, [(b"set-cookie", cookie.encode())]

    @staticmethod
    def _answered(cookies: Mapping[str, str], center: Center, today: date) -> bool:
        return center.center_id in _answered_today(cookies, today)

    def _done_cookie(
        self, cookies: Mapping[str, str], center: Center, today: date
    ) -> list[tuple[bytes, bytes]]:
        kept = _answered_today(cookies, today)[-20:]
        value = "|".join([today.isoformat(), *kept, center.center_id])
        cookie = f"{DONE_COOKIE}={value}; Max-Age=86400{self.cookie_flags}"
        return [(b"set-cookie", cookie.encode())]

    @staticmethod
    async def _read_form(scope: Scope, receive: Receive) -> str | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError:
            return ""

    async def _send(
        self,
        send: Send,
        status: int,
        body: bytes,
        cookies: list[tuple[bytes, bytes]] | None = None,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        headers = [*self.headers, (b"content-length", str(len(body)).encode())]
        if cookies:
            headers += cookies
        if extra:
            headers += extra
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
