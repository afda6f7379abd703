"""OPS/PMO operators' pages (spec §9): rounds and their dates, extensions, exports to the PMO
system, the audit log, and accounts. Intake decides and audits every change; these pages
show its answers, its refusals next to the fields they concern.

Only operator sessions: an office's session gets a 403 page, a center's a 404 page (as the
center pages answer others)."""

import json
from datetime import datetime
from functools import partial
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from services.portal.adapters.intake import IntakeClient, NotFound, Refused
from services.portal.adapters.repository import Session
from services.portal.domain import operators as domain
from services.portal.domain.operators import Problem
from services.portal.entrypoints import i18n
from services.portal.entrypoints.reports import SignInFirst
from services.portal.entrypoints.web import CSRF_FIELD, Page, page_of, posted_fields
from shared.thai import BANGKOK

router = APIRouter(include_in_schema=False, prefix="/operator")
Current = Annotated[Page, Depends(page_of)]
PAGE_SIZE = 50
MAX_ACCOUNTS_FILE = 5 * 1024 * 1024


class Forbidden(Exception):
    """Signed in, but these pages are not for this kind of account (an office)."""


class FormExpired(Exception):
    """A form posted with a stale CSRF token: the person goes back to ``back`` to try again."""

    def __init__(self, back: str) -> None:
        super().__init__(back)
        self.back = back


async def forbidden_page(request: Request, error: Exception) -> Response:
    page = await page_of(request)
    return page.render("operator_forbidden.html", 403)


async def form_expired_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, FormExpired)
    return RedirectResponse(error.back, status_code=303)


def _operator(page: Page) -> Session:
    session = page.session
    if session is None:
        raise SignInFirst(page.request.url.path)
    if session.kind == "operator":
        return session
    if session.kind == "office":
        raise Forbidden(page.request.url.path)
    raise NotFound("the operator pages are for operators")


def _intake(page: Page) -> IntakeClient:
    intake: IntakeClient = page.request.app.state.intake
    return intake


def _render(page: Page, template: str, status: int = 200, **context: Any) -> Response:
    return page.render(
        template,
        status,
        bkk_day=_day_value,
        bkk_time=_time_value,
        label=partial(_label, page),
        readable=partial(_readable, page),
        **context,
    )


def _label(page: Page, prefix: str, value: object) -> str:
    """The catalogue's word for a value intake names (an export's state), else the value."""
    key = f"{prefix}{value}"
    found = page.t(key)
    return str(value) if found == key else found


def _readable(page: Page, value: object) -> str:
    """A value of an audit entry's details as people read it (a time in Bangkok, B.E.)."""
    if isinstance(value, str) and len(value) >= 20 and value[4:5] == "-" and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            return i18n.date_time(moment, page.locale)
    if isinstance(value, bool | int | float | str):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _day_value(moment: datetime) -> str:
    return moment.astimezone(BANGKOK).date().isoformat()


def _time_value(moment: datetime) -> str:
    return f"{moment.astimezone(BANGKOK):%H:%M}"


async def _operator_form(
    page: Page, back: str, keep: tuple[str, ...] = ()
) -> tuple[Session, dict[str, str]]:
    """The operator's session and the fields posted; with a stale CSRF token the person is
    sent back to ``back`` with the ``keep`` fields and a notice that the form expired."""
    session = _operator(page)
    posted = await posted_fields(page.request)
    if not page.csrf_ok(posted.get(CSRF_FIELD)):
        query = {name: posted.get(name, "").strip() for name in keep} | {"notice": "form_expired"}
        raise FormExpired(f"{back}?{urlencode(query)}")
    return session, posted


def _refused_title(page: Page, refusal: Refused) -> str:
    problem = refusal.problem
    if page.locale == "th":
        return str(problem.get("title_th") or problem.get("title") or refusal.code)
    return str(problem.get("title") or problem.get("title_th") or refusal.code)


async def _round(page: Page, session: Session, round_id: str) -> domain.Round:
    return domain.Round.of(await _intake(page).round(session.intake_token, round_id))


# --- Rounds ----------------------------------------------------------------------------


@router.get("")
async def home(page: Current) -> Response:
    _operator(page)
    return page.redirect("/operator/rounds")


@router.get("/rounds")
async def rounds(page: Current) -> Response:
    session = _operator(page)
    found = [domain.Round.of(r) for r in await _intake(page).rounds(session.intake_token)]
    found.sort(key=lambda r: r.opens_at, reverse=True)
    return _render(page, "operator_rounds.html", rounds=found)


@router.get("/rounds/{round_id}")
async def round_page(page: Current, round_id: str, notice: str = "") -> Response:
    session = _operator(page)
    current = await _round(page, session, round_id)
    return _render(
        page, "operator_round.html", current=current, typed={}, problems=[], notice=notice
    )


@router.post("/rounds/{round_id}")
async def change_round(page: Current, round_id: str) -> Response:
    session, posted = await _operator_form(page, f"/operator/rounds/{round_id}")
    current = await _round(page, session, round_id)
    changes, problems = domain.date_changes(current, posted)
    reason = posted.get("reason", "").strip()
    if (missing := domain.reason_problem(reason)) is not None:
        problems.append(missing)
    if not problems:
        try:
            await _intake(page).change_round(session.intake_token, round_id, changes, reason)
        except Refused as refusal:
            if refusal.code == "round_closed":
                detail = _refused_title(page, refusal)
                problems = [Problem("opens_at", "operator.problem.round_closed", detail)]
            elif refusal.status == 422:
                problems = domain.intake_problems(
                    refusal.problem.get("errors", []), (*domain.ROUND_DATES, "reason")
                )
            else:
                raise
        else:
            return page.redirect(f"/operator/rounds/{round_id}?notice=dates_changed")
    status = 409 if any(p.key.endswith("round_closed") for p in problems) else 422
    return _render(
        page,
        "operator_round.html",
        status,
        current=current,
        typed=posted,
        problems=problems,
        notice="",
    )


# --- Extensions ------------------------------------------------------------------------


@router.get("/rounds/{round_id}/extensions")
async def extensions(page: Current, round_id: str, notice: str = "") -> Response:
    session = _operator(page)
    return await _extensions_page(page, session, round_id, {}, [], notice)


async def _extensions_page(
    page: Page,
    session: Session,
    round_id: str,
    typed: dict[str, str],
    problems: list[Problem],
    notice: str,
    status: int = 200,
) -> Response:
    current = await _round(page, session, round_id)
    granted = await _intake(page).extensions(session.intake_token, round_id)
    return _render(
        page,
        "operator_extensions.html",
        status,
        current=current,
        extensions=granted,
        suggested_until=domain.suggested_extension_end(current.closes_at, page.round_time),
        typed=typed,
        problems=problems,
        notice=notice,
    )


@router.post("/rounds/{round_id}/extensions")
async def grant_extension(page: Current, round_id: str) -> Response:
    session, posted = await _operator_form(page, f"/operator/rounds/{round_id}/extensions")
    center_id = posted.get("center_id", "").strip().upper()
    until = domain.bangkok_day_time(posted.get("until-day", ""), posted.get("until-time", ""))
    reason = posted.get("reason", "").strip()
    problems: list[Problem] = []
    if not center_id:
        problems.append(Problem("center_id", "operator.problem.center_missing"))
    if until is None:
        problems.append(Problem("until", "operator.problem.date"))
    elif until <= page.round_time:
        problems.append(Problem("until", "operator.problem.until_past"))
    if (missing := domain.reason_problem(reason)) is not None:
        problems.append(missing)
    if not problems and until is not None:
        try:
            await _intake(page).grant_extension(
                session.intake_token, round_id, center_id, until, reason
            )
        except NotFound:
            problems = [Problem("center_id", "operator.problem.center_unknown")]
        except Refused as refusal:
            if refusal.status != 422 and refusal.status != 409:
                raise
            problems = domain.intake_problems(
                refusal.problem.get("errors", []) or [{"reason": _refused_title(page, refusal)}],
                ("center_id", "until", "reason"),
            )
        else:
            return page.redirect(f"/operator/rounds/{round_id}/extensions?notice=granted")
    return await _extensions_page(page, session, round_id, posted, problems, "", 422)


# --- Exports ---------------------------------------------------------------------------


@router.get("/rounds/{round_id}/exports")
async def exports(page: Current, round_id: str, notice: str = "") -> Response:
    session = _operator(page)
    current = await _round(page, session, round_id)
    found = await _intake(page).exports(session.intake_token, round_id)
    return _render(
        page,
        "operator_exports.html",
        current=current,
        exports=list(reversed(found.get("exports", []))),
        requests=list(reversed(found.get("requests", []))),
        notice=notice,
    )


@router.post("/rounds/{round_id}/exports")
async def request_export(page: Current, round_id: str) -> Response:
    session, _ = await _operator_form(page, f"/operator/rounds/{round_id}/exports")
    await _intake(page).request_export(session.intake_token, round_id)
    return page.redirect(f"/operator/rounds/{round_id}/exports?notice=export_requested")


# --- The audit log ---------------------------------------------------------------------


@router.get("/audit")
async def audit(
    page: Current,
    target: str = "",
    actor: str = "",
    since: str = "",
    until: str = "",
    before: str = "",
) -> Response:
    session = _operator(page)
    target, actor = target.strip(), actor.strip()
    since_at = domain.bangkok_day(since) if since else None
    until_at = domain.bangkok_day(until, end=True) if until else None
    problems = []
    if since and since_at is None:
        problems.append(Problem("since", "operator.problem.date"))
    if until and until_at is None:
        problems.append(Problem("until", "operator.problem.date"))
    entries: list[dict[str, Any]] = []
    if not problems:
        try:
            entries = await _intake(page).audit(
                session.intake_token, target, actor, since_at, until_at, before, PAGE_SIZE
            )
        except Refused as refusal:
            if refusal.status != 422:
                raise
            problems = domain.intake_problems(
                refusal.problem.get("errors", []), ("target", "actor", "since", "until")
            )
    filters = {"target": target, "actor": actor, "since": since, "until": until}
    older = ""
    if len(entries) == PAGE_SIZE:
        kept = {k: v for k, v in filters.items() if v}
        older = "/operator/audit?" + urlencode({**kept, "before": entries[-1]["id"]})
    return _render(
        page,
        "operator_audit.html",
        422 if problems else 200,
        entries=entries,
        filters=filters,
        paged=bool(before),
        older=older,
        problems=problems,
    )


# --- Accounts --------------------------------------------------------------------------


@router.get("/accounts")
async def accounts(
    page: Current, q: str = "", kind: str = "", number: int = 1, notice: str = ""
) -> Response:
    session = _operator(page)
    q = q.strip()
    kind = kind if kind in domain.ACCOUNT_KINDS else ""
    number = max(number, 1)
    found = await _intake(page).accounts(
        session.intake_token, q, kind, PAGE_SIZE, (number - 1) * PAGE_SIZE
    )
    total = int(found.get("total", 0))
    kept = {k: v for k, v in (("q", q), ("kind", kind)) if v}
    newer = f"/operator/accounts?{urlencode({**kept, 'number': number - 1})}" if number > 1 else ""
    more = number * PAGE_SIZE < total
    older = f"/operator/accounts?{urlencode({**kept, 'number': number + 1})}" if more else ""
    return _render(
        page,
        "operator_accounts.html",
        accounts=found.get("accounts", []),
        total=total,
        q=q,
        kind=kind,
        kinds=domain.ACCOUNT_KINDS,
        previous_page=newer,
        next_page=older,
        notice=notice,
        email=page.request.query_params.get("email", ""),
    )


@router.get("/accounts/import")
async def import_form(page: Current) -> Response:
    _operator(page)
    return _render(page, "operator_import.html", result=None, errors=[], problem="")


@router.post("/accounts/import")
async def import_accounts(page: Current) -> Response:
    session = _operator(page)
    form = await page.request.form()
    token = form.get(CSRF_FIELD)
    if not page.csrf_ok(token if isinstance(token, str) else None):
        return _render(
            page, "operator_import.html", 400, result=None, errors=[], problem="form_expired"
        )
    upload = form.get("file")
    content = await upload.read(MAX_ACCOUNTS_FILE + 1) if isinstance(upload, UploadFile) else b""
    if not content:
        return _render(page, "operator_import.html", 422, result=None, errors=[], problem="empty")
    if len(content) > MAX_ACCOUNTS_FILE:
        return _render(
            page, "operator_import.html", 413, result=None, errors=[], problem="too_large"
        )
    try:
        result = await _intake(page).import_accounts(session.intake_token, content)
    except Refused as refusal:
        if refusal.status not in (400, 413, 415, 422):
            raise
        errors = refusal.problem.get("errors", [])
        return _render(
            page,
            "operator_import.html",
            422,
            result=None,
            errors=errors,
            problem="" if errors else _refused_title(page, refusal),
        )
    return _render(page, "operator_import.html", result=result, errors=[], problem="")


@router.get("/accounts/disable")
async def confirm_disable(page: Current, email: str = "", notice: str = "") -> Response:
    _operator(page)
    if not email:
        return page.redirect("/operator/accounts")
    return _render(
        page, "operator_disable.html", email=email, reason="", problems=[], notice=notice
    )


@router.post("/accounts/disable")
async def disable_account(page: Current) -> Response:
    session, posted = await _operator_form(page, "/operator/accounts/disable", keep=("email",))
    email = posted.get("email", "").strip()
    reason = posted.get("reason", "").strip()
    problems = [p for p in [domain.reason_problem(reason)] if p is not None]
    if not problems:
        try:
            await _intake(page).disable_account(session.intake_token, email, reason)
        except Refused as refusal:
            if refusal.status != 422:
                raise
            problems = domain.intake_problems(refusal.problem.get("errors", []), ("reason",))
        else:
            query = urlencode({"notice": "disabled", "q": email, "email": email})
            return page.redirect(f"/operator/accounts?{query}")
    return _render(
        page,
        "operator_disable.html",
        422,
        email=email,
        reason=reason,
        problems=problems,
        notice="",
    )
