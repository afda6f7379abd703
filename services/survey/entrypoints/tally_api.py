"""The tally read API for the portal: ``GET /v1/centers/{center}/rounds/{round}/tally``,
behind the survey's shared read secret."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException

from services.survey.adapters import tallies as store
from services.survey.domain.tallies import TallyKey
from services.survey.settings import SurveySettings
from shared.events import SurveyTally
from shared.messaging.runtime import ServiceRuntime


def router(runtime: ServiceRuntime, settings: SurveySettings) -> APIRouter:
    secret = f"Bearer {settings.read_secret}".encode()

    def authorized(authorization: Annotated[str, Header()] = "") -> None:
        if not hmac.compare_digest(authorization.encode(), secret):
            raise HTTPException(
                401,
                "Authorization: Bearer <GECC_SURVEY_READ_SECRET> required",
                headers={"WWW-Authenticate": "Bearer"},
            )

    api = APIRouter(prefix="/v1", tags=["tallies"], dependencies=[Depends(authorized)])

    @api.get(
        "/centers/{center_id}/rounds/{round_id}/tally",
        summary="A center's citizen survey tally in a round",
        responses={401: {"description": "No or a wrong read secret"}, 404: {}},
    )
    async def tally(center_id: str, round_id: str) -> SurveyTally:
        """The tally as its latest ``SurveyTally`` event has it; 404 before the first response."""
        async with runtime.pool.acquire() as conn:
            found = await store.read(conn, TallyKey(center_id, round_id))
        if found is None:
            raise HTTPException(404, f"no survey response for {center_id} in {round_id}")
        return found.as_event_data()

    return api
