"""The citizen survey's tallies: kept as they come, read when a report takes its figures
from them."""

from collections.abc import Sequence

import asyncpg

from services.intake.adapters import tallies
from services.intake.domain.survey import RESPONSES_FIELD, claim_problem
from services.intake.handlers.errors import InvalidRequest
from shared.events import Envelope, SurveyTally
from shared.submission import SubmissionBody


async def note_tallies(conn: asyncpg.Connection, events: Sequence[Envelope[SurveyTally]]) -> None:
    """Remember each center and round's latest tally (the highest revision seen)."""
    await tallies.keep_latest(conn, [event.data for event in events])


async def check_claim(pool: asyncpg.Pool, center_id: str, body: SubmissionBody) -> None:
    """Refuse a report claiming more citizen survey responses than the latest tally seen (or
    any, when none was seen). Tallies only grow, so a claim that passes here still would
    when the version is written."""
    source = body.satisfaction.source
    if source.kind != "citizen_survey":
        return
    async with pool.acquire() as conn:
        seen = await tallies.seen_tally(conn, center_id, body.round_id)
    problem = claim_problem(source, seen, body.round_id)
    if problem is not None:
        raise InvalidRequest([(RESPONSES_FIELD, problem)])
