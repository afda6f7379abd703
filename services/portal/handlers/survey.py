"""A center's citizen survey in the portal: its live tally, taking it into the report, and
its poster. Who may see a center's is intake's answer for the session (NotFound otherwise),
asked before the survey service is."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.portal.adapters.intake import FileStream, IntakeClient, NotFound
from services.portal.adapters.repository import Session
from services.portal.adapters.survey import SurveyClient, SurveyUnavailable
from services.portal.domain.report_form import ReportForm
from services.portal.domain.rounds import CenterRound
from services.portal.domain.survey import Tally
from services.portal.metrics import PortalMetrics

log = logging.getLogger(__name__)
TallyState = Literal["tally", "none", "unavailable"]


@dataclass(frozen=True)
class TallyView:
    """What a center's page shows of its survey in a round: the tally, that nobody has
    answered yet, or that the survey service cannot be reached just now (the page works
    on without it)."""

    round_id: str
    state: TallyState
    tally: Tally | None = None

    @property
    def usable(self) -> bool:
        return self.tally is not None and self.tally.responses >= 1


async def tally_view(
    survey: SurveyClient, metrics: PortalMetrics, center_id: str, round_id: str
) -> TallyView:
    try:
        tally = await survey.tally(center_id, round_id)
    except SurveyUnavailable as error:
        log.warning("survey unavailable: %s", error)
        metrics.survey_reads.labels("tally", "unavailable").inc()
        return TallyView(round_id, "unavailable")
    metrics.survey_reads.labels("tally", "ok" if tally else "none").inc()
    return TallyView(round_id, "tally", tally) if tally else TallyView(round_id, "none")


def surveyed(current: CenterRound, now: datetime) -> bool:
    """Rounds whose survey is worth showing: every round not closed yet (citizens answer
    during the round's period, before it opens for reports)."""
    return current.window(now) != "closed"


async def tally_views(
    survey: SurveyClient, metrics: PortalMetrics, center_id: str, round_ids: list[str]
) -> dict[str, TallyView]:
    views = await asyncio.gather(*(tally_view(survey, metrics, center_id, r) for r in round_ids))
    return {view.round_id: view for view in views}


def taken(form: ReportForm, view: TallyView) -> ReportForm | None:
    """The form with the tally taken into it, or None when there is none to take."""
    if view.tally is None or not view.usable:
        return None
    return form.with_tally(view.tally)


async def poster(
    intake: IntakeClient, survey: SurveyClient, session: Session, center_id: str
) -> FileStream:
    """The center's poster, for its own accounts and the offices above it (and operators):
    intake tells whether the session may read the center (NotFound otherwise)."""
    if session.kind == "center":
        if session.center_id != center_id:
            raise NotFound(center_id)
    else:
        await intake.center(session.intake_token, center_id)
    return await survey.poster(center_id)
