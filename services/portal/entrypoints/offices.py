"""A parent office's pages (operators use them too, their scope the whole registry): the
completeness of an office's subtree in a round with its lists of centers, the same tables as
files, the fragment the page's script renews every few seconds, and a center's report
read-only. A center's session finds none of them (404), nor does an office outside its
subtree (intake answers 404)."""

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from services.portal.adapters.intake import IntakeClient, NotFound
from services.portal.adapters.repository import Session
from services.portal.domain.offices import DOWNLOADS, FORMATS, LISTS, submitted_share
from services.portal.domain.report_form import ReportForm
from services.portal.entrypoints.reports import SignInFirst, evidence_context
from services.portal.entrypoints.web import Page, page_of
from services.portal.handlers import offices as handlers

router = APIRouter(include_in_schema=False)
SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]{0,199}")
Current = Annotated[Page, Depends(page_of)]


def _office_session(page: Page) -> Session:
    session = page.session
    if session is None:
        raise SignInFirst(page.request.url.path)
    if not handlers.may_read_offices(session):
        raise NotFound("the office pages are for offices and operators")
    return session


def _intake(page: Page) -> IntakeClient:
    intake: IntakeClient = page.request.app.state.intake
    return intake


def _whole(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 1_000_000 else None


@router.get("/office")
async def office_home(page: Current, round: str = "", office: str = "") -> Response:
    """The current round at the session's scope; the round chosen (the page's round
    selector, a form that works without script) at the office it was on."""
    session = _office_session(page)
    if round and office and SAFE.fullmatch(round) and SAFE.fullmatch(office):
        return page.redirect(f"/office/{round}/{office}")
    return page.redirect(await handlers.home(_intake(page), session, page.round_time))


@router.get("/office/{round_id}/{path:path}/live")
async def live(page: Current, round_id: str, path: str) -> Response:
    session = _office_session(page)
    office, children = await handlers.live(_intake(page), session, round_id, path)
    return page.render(
        "_office_live.html",
        office=office,
        children=children,
        round_id=round_id,
        share=submitted_share,
    )


@router.get("/office/{round_id}/{path:path}/download")
async def download(
    page: Current, round_id: str, path: str, what: str = "", format: str = ""
) -> Response:
    session = _office_session(page)
    if what not in DOWNLOADS or format not in FORMATS:
        return page.render("error.html", 400, problem="bad_request")
    stream = await _intake(page).completeness_file(
        session.intake_token, round_id, path, what, format
    )
    return StreamingResponse(
        stream.chunks,
        media_type=stream.content_type,
        headers={"Content-Disposition": stream.disposition},
    )


@router.get("/office/{round_id}/{path:path}")
async def office(
    page: Current,
    round_id: str,
    path: str,
    list_name: Annotated[str, Query(alias="list")] = "missing",
    number: Annotated[str, Query(alias="page")] = "1",
) -> Response:
    session = _office_session(page)
    chosen = _whole(number)
    if list_name not in LISTS or chosen is None:
        return page.render("error.html", 400, problem="bad_request")
    view = await handlers.completeness(_intake(page), session, round_id, path, list_name, chosen)
    return page.render("office.html", view=view, share=submitted_share, lists=LISTS)


@router.get("/centers/{center_id}/rounds/{round_id}")
async def center_report(
    page: Current, center_id: str, round_id: str, version: str = ""
) -> Response:
    session = page.session
    if session is not None and session.kind == "center" and session.center_id == center_id:
        return page.redirect("/rounds")  # a center's own report: its own pages
    session = _office_session(page)
    number = _whole(version) if version else None
    if version and number is None:
        return page.render("error.html", 400, problem="bad_request")
    found = await handlers.center_report(_intake(page), session, center_id, round_id, number)
    form = None
    if found.version is not None and found.standard is not None:
        form = ReportForm.from_report(found.standard, found.version["report"])
    return page.render(
        "center_report.html",
        report=found,
        round_id=round_id,
        submission=found.submission,
        version=found.version,
        standard=found.standard,
        form=form,
        **await evidence_context(page, round_id, center_id),
    )
