"""A center's pages: its rounds, the report form with its draft, review and submit, the
receipt, the result and the versions.

A form posted after the session or its token expired is not lost: it is kept for this
browser and put back into the draft after the next sign-in (``sign_in_handlers.keep_form``)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from services.portal.adapters.intake import IntakeClient, NotFound, Refused, SessionEnded
from services.portal.adapters.repository import Session
from services.portal.domain.evidence import ACCEPT, REFUSALS, attached, is_image, type_name
from services.portal.domain.report_form import FieldError, ReportForm, check
from services.portal.domain.rounds import CenterRound
from services.portal.domain.survey import SurveySource
from services.portal.entrypoints import i18n
from services.portal.entrypoints.web import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    Page,
    home_of,
    page_of,
    posted_fields,
)
from services.portal.handlers import evidence as evidence_handlers
from services.portal.handlers import reports as handlers
from services.portal.handlers import sign_in as sign_in_handlers
from services.portal.handlers import survey as survey_handlers
from shared.submission import RATING_SCALE

router = APIRouter(include_in_schema=False)
Current = Annotated[Page, Depends(page_of)]


class SignInFirst(Exception):
    """No session (or it ended): the person signs in and comes back to ``next``."""

    def __init__(self, next: str, notice: str = "") -> None:
        super().__init__(next)
        self.next = next
        self.notice = notice


def center_session(page: Page) -> Session:
    session = page.session
    if session is None:
        raise SignInFirst(page.request.url.path)
    if session.center_id is None:
        raise NotFound("the center pages are for center accounts")
    return session


def services_of(page: Page) -> tuple[Any, IntakeClient]:
    state = page.request.app.state
    return state.runtime.pool, state.intake


@router.get("/")
async def home(page: Current) -> Response:
    return page.redirect(home_of(page.session))


@router.get("/rounds")
async def rounds(page: Current) -> Response:
    session = center_session(page)
    pool, intake = services_of(page)
    center = await intake.center(session.intake_token, session.center_id or "")
    found = await handlers.center_rounds(pool, intake, session)
    surveyed = [r.round_id for r in found if survey_handlers.surveyed(r, page.round_time)]
    state = page.request.app.state
    tallies = await survey_handlers.tally_views(
        state.survey, state.metrics, session.center_id or "", surveyed
    )
    standard = await intake.standard(session.intake_token) if surveyed else None
    return page.render(
        "rounds.html",
        center=center,
        rounds=found,
        tallies=tallies,
        standard=standard,
        **survey_links(page, session.center_id or ""),
    )


@router.get("/rounds/{round_id}/report")
async def report_form(page: Current, round_id: str, notice: str = "") -> Response:
    session = center_session(page)
    pool, intake = services_of(page)
    current = await handlers.center_round(pool, intake, session, round_id)
    if not current.can_report(page.round_time):
        return page.render("error.html", 409, problem="round_closed")
    report = await handlers.report(pool, intake, session, current)
    return await _render_form(page, current, report, [], notice)


@router.post("/rounds/{round_id}/report")
async def save_report(page: Current, round_id: str) -> Response:
    posted = await posted_fields(page.request)
    if page.session is None or not page.csrf_ok(posted.get(CSRF_FIELD)):
        return await keep_form(page, round_id, posted)
    session = center_session(page)
    pool, intake = services_of(page)
    try:
        current = await handlers.center_round(pool, intake, session, round_id)
        report = await handlers.report(pool, intake, session, current)
    except SessionEnded:  # intake ended the session (expired, signed out elsewhere)
        return await keep_form(page, round_id, posted)
    form = ReportForm.from_post(report.standard, posted)
    action, notice, view = posted.get("action"), "saved", None
    if action == "use_survey":  # the tally as the survey service has it now, never as posted
        state = page.request.app.state
        assert session.center_id is not None
        view = await survey_handlers.tally_view(
            state.survey, state.metrics, session.center_id, round_id
        )
        filled = survey_handlers.taken(form, view)
        if filled is None:
            notice = "survey_unavailable" if view.state == "unavailable" else "survey_none"
        else:
            form, notice = filled, "survey_used"
    elif action == "own_figures":
        form, notice = form.without_source(), "own_figures"
    saved = await handlers.save_draft(pool, session, round_id, report.standard, form, page.now)
    report = handlers.Report(report.standard, form, saved, "draft")
    if action != "review":
        return await _render_form(page, current, report, [], notice, view=view)
    errors = handlers.review(report, round_id)
    if errors:
        return await _render_form(page, current, report, errors, "", status=422)
    return page.redirect(f"/rounds/{round_id}/review")


@router.post("/rounds/{round_id}/draft")
async def autosave(page: Current, round_id: str) -> Response:
    """The form's script saves the draft as the person types (JSON answer)."""
    posted = await posted_fields(page.request)
    token = page.request.headers.get(CSRF_HEADER) or posted.get(CSRF_FIELD)
    if page.session is None or not page.csrf_ok(token):
        await _keep_for_browser(page, round_id, posted)
        return JSONResponse({"saved": False, "reason": "session_ended"}, status_code=401)
    session = center_session(page)
    pool, intake = services_of(page)
    current = await handlers.center_round(pool, intake, session, round_id)
    standard = (await handlers.report(pool, intake, session, current)).standard
    form = ReportForm.from_post(standard, posted)
    saved = await handlers.save_draft(pool, session, round_id, standard, form, page.now)
    percents = {code: form.percent(code) for code in form.counts}
    return JSONResponse(
        {
            "saved": True,
            "revision": saved.revision,
            "saved_at": page.t("form.saved_at", time=i18n.clock_time(saved.updated_at)),
            "percents": percents,
        }
    )


@router.get("/rounds/{round_id}/review")
async def review(page: Current, round_id: str, notice: str = "") -> Response:
    session = center_session(page)
    pool, intake = services_of(page)
    current = await handlers.center_round(pool, intake, session, round_id)
    report = await handlers.report(pool, intake, session, current)
    if report.draft is None:
        return page.redirect(f"/rounds/{round_id}/report")
    body, errors = check(report.form, report.standard, round_id)
    if body is None:
        return await _render_form(page, current, report, errors, "", status=422)
    return page.render(
        "review.html",
        current=current,
        report=report,
        body=body,
        key=report.draft.key,
        notice=notice,
        error="",
        **await evidence_context(page, current.round_id),
    )


@router.post("/rounds/{round_id}/submit")
async def submit(page: Current, round_id: str) -> Response:
    posted = await posted_fields(page.request)
    if page.session is None or not page.csrf_ok(posted.get(CSRF_FIELD)):
        raise SignInFirst(f"/rounds/{round_id}/review", "form_expired")
    session = center_session(page)
    pool, intake = services_of(page)
    metrics = page.request.app.state.metrics
    try:
        receipt = await handlers.submit(pool, intake, session, round_id, posted.get("key", ""))
    except handlers.DraftChanged:
        return page.redirect(f"/rounds/{round_id}/review?notice=changed")
    except Refused as refusal:
        metrics.submissions.labels("refused").inc()
        current = await handlers.center_round(pool, intake, session, round_id)
        report = await handlers.report(pool, intake, session, current)
        return page.render(
            "review.html",
            409 if refusal.status == 409 else 422,
            current=current,
            report=report,
            body=None,
            key="",
            notice="",
            error=refusal.code,
            **await evidence_context(page, round_id),
        )
    metrics.submissions.labels("accepted").inc()
    return page.redirect(
        f"/submissions/{receipt['submission_id']}/versions/{receipt['version']}?notice=received"
    )


@router.get("/submissions/{submission_id}")
async def submission(page: Current, submission_id: str) -> Response:
    session = center_session(page)
    _, intake = services_of(page)
    found = await intake.submission(session.intake_token, submission_id)
    latest = await intake.version(
        session.intake_token, submission_id, found["versions"][-1]["version"]
    )
    source = SurveySource.parsed(latest["report"]["satisfaction"].get("source"))
    return page.render("submission.html", submission=found, source=source)


@router.get("/submissions/{submission_id}/versions/{number}")
async def version(page: Current, submission_id: str, number: int, notice: str = "") -> Response:
    session = center_session(page)
    _, intake = services_of(page)
    chosen = await intake.version(session.intake_token, submission_id, number)
    report = chosen["report"]
    standard = await intake.standard(session.intake_token, report["checklist"]["standard"])
    form = ReportForm.from_report(standard, report)
    return page.render(
        "version.html",
        submission=chosen,
        version=chosen,
        standard=standard,
        form=form,
        notice=notice,
        **await evidence_context(page, chosen["round_id"]),
    )


async def _render_form(
    page: Page,
    current: CenterRound,
    report: handlers.Report,
    errors: list[FieldError],
    notice: str,
    status: int = 200,
    view: survey_handlers.TallyView | None = None,
) -> Response:
    by_control: dict[str, list[FieldError]] = {}
    for error in errors:
        by_control.setdefault(error.control, []).append(error)
    session = center_session(page)
    _, intake = services_of(page)
    evidence = await evidence_handlers.files_of(intake, session, current.round_id)
    if view is None:
        state = page.request.app.state
        view = await survey_handlers.tally_view(
            state.survey, state.metrics, session.center_id or "", current.round_id
        )
    return page.render(
        "report_form.html",
        status,
        current=current,
        report=report,
        errors=errors,
        by_control=by_control,
        ratings=range(1, RATING_SCALE + 1),
        notice=notice,
        evidence_files=evidence,
        attached=attached,
        flash=flash_of(page),
        accept=ACCEPT,
        is_image=is_image,
        type_name=type_name,
        view=view,
        in_form=True,
        can_report=True,
        standard=report.standard,
        **survey_links(page, session.center_id or ""),
    )


def survey_links(page: Page, center_id: str) -> dict[str, Any]:
    """The center's survey page (the address on its poster), its poster, and how often the
    pages' script renews the tally."""
    settings = page.request.app.state.settings
    return {
        "survey_page": f"{settings.survey_public_url.rstrip('/')}/s/{center_id}",
        "poster": f"/centers/{center_id}/poster.pdf",
        "refresh_seconds": settings.survey_refresh_seconds,
    }


def flash_of(page: Page) -> dict[str, str]:
    """What the last upload or removal did, from the address the page came back to."""
    query = page.request.query_params
    item, error = query.get("item", ""), query.get("error", "")
    if not item or (error and error not in REFUSALS):
        return {}
    flash = {"item": item, "error": error, "file": query.get("file", "")[:200]}
    for name in ("added", "removed"):
        value = query.get(name, "")
        flash[name] = value if value.isdigit() else ""
    return flash


async def evidence_context(
    page: Page, round_id: str, center_id: str | None = None
) -> dict[str, Any]:
    """What _report_summary.html needs to list each item's files."""
    assert page.session is not None
    _, intake = services_of(page)
    files = await evidence_handlers.files_of(intake, page.session, round_id, center_id)
    return {
        "evidence_files": files,
        "attached": attached,
        "is_image": is_image,
        "type_name": type_name,
    }


async def keep_form(page: Page, round_id: str, posted: dict[str, str]) -> Response:
    await _keep_for_browser(page, round_id, posted)
    return page.redirect(f"/sign-in?notice=kept&next=/rounds/{round_id}/report")


async def _keep_for_browser(page: Page, round_id: str, posted: dict[str, str]) -> None:
    """Keep what was typed for this browser; bound to the center of the session that ended,
    when there was one."""
    state = page.request.app.state
    center = page.session.center_id if page.session else None
    cookie = page.request.cookies.get(SESSION_COOKIE)
    if center is None and cookie:
        center = await sign_in_handlers.ended_session_center(state.runtime.pool, cookie)
    kept = {k: v for k, v in posted.items() if k not in (CSRF_FIELD, "action")}
    await sign_in_handlers.keep_form(
        state.runtime.pool,
        page.browser,
        round_id,
        center,
        kept,
        page.now,
        state.settings.kept_form_minutes,
    )
    state.metrics.kept_forms.labels("kept").inc()
