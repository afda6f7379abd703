"""A center's citizen survey on the portal's pages: the tally fragment the pages' script
renews every few seconds, and the poster (a PDF from the survey service, for the center and
the offices above it). The tally on the rounds page and the report form, and the form's
button that takes it into the report, are in ``reports``."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response, StreamingResponse

from services.portal.adapters.intake import IntakeClient
from services.portal.adapters.survey import SurveyClient
from services.portal.entrypoints.reports import SignInFirst, center_session
from services.portal.entrypoints.web import Page, page_of
from services.portal.handlers import reports as report_handlers
from services.portal.handlers import survey as handlers

router = APIRouter(include_in_schema=False)
Current = Annotated[Page, Depends(page_of)]


def survey_of(page: Page) -> SurveyClient:
    survey: SurveyClient = page.request.app.state.survey
    return survey


@router.get("/rounds/{round_id}/survey")
async def live_tally(page: Current, round_id: str, within: str = "") -> Response:
    """The tally as the page shows it (``within=form``: with the report form's button)."""
    session = center_session(page)
    state = page.request.app.state
    intake: IntakeClient = state.intake
    current = await report_handlers.center_round(state.runtime.pool, intake, session, round_id)
    assert session.center_id is not None
    view = await handlers.tally_view(survey_of(page), state.metrics, session.center_id, round_id)
    return page.render(
        "_survey_tally.html",
        view=view,
        standard=await intake.standard(session.intake_token),
        in_form=within == "form",
        can_report=current.can_report(page.round_time),
    )


@router.get("/centers/{center_id}/poster.pdf")
async def poster(page: Current, center_id: str) -> Response:
    session = page.session
    if session is None:
        raise SignInFirst(page.request.url.path)
    state = page.request.app.state
    stream = await handlers.poster(state.intake, survey_of(page), session, center_id)
    state.metrics.survey_reads.labels("poster", "ok").inc()
    headers = {"Content-Disposition": stream.disposition}
    if stream.length is not None:
        headers["Content-Length"] = str(stream.length)
    return StreamingResponse(stream.chunks, media_type=stream.content_type, headers=headers)
