"""Intake's copy of the citizen survey's tallies: the highest revision per center and round."""

from collections.abc import Sequence

import asyncpg

from services.intake.domain.survey import SeenTally
from shared.events import SurveyTally


def highest_revisions(tallies: Sequence[SurveyTally]) -> list[SurveyTally]:
    """Of each center and round, the tally of the highest revision (the first of equals)."""
    kept: dict[tuple[str, str], SurveyTally] = {}
    for tally in tallies:
        key = (tally.center_id, tally.round_id)
        if key not in kept or tally.revision > kept[key].revision:
            kept[key] = tally
    return list(kept.values())


async def keep_latest(conn: asyncpg.Connection, tallies: Sequence[SurveyTally]) -> None:
    """Keep each center and round's tally of the highest revision, in one statement: a lower
    or equal revision arriving later (redelivered, or overtaken) changes nothing."""
    rows = highest_revisions(tallies)
    await conn.execute(
        """
        INSERT INTO survey_tallies
            (center_id, round_id, responses, revision, last_response_at, tallied_at)
        SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[],
                             $5::timestamptz[], $6::timestamptz[])
        ON CONFLICT (center_id, round_id) DO UPDATE SET responses = excluded.responses,
            revision = excluded.revision, last_response_at = excluded.last_response_at,
            tallied_at = excluded.tallied_at
        WHERE survey_tallies.revision < excluded.revision
        """,
        [t.center_id for t in rows],
        [t.round_id for t in rows],
        [t.responses for t in rows],
        [t.revision for t in rows],
        [t.last_response_at for t in rows],
        [t.tallied_at for t in rows],
    )


async def seen_tally(conn: asyncpg.Connection, center_id: str, round_id: str) -> SeenTally | None:
    row = await conn.fetchrow(
        "SELECT center_id, round_id, responses, revision, tallied_at FROM survey_tallies"
        " WHERE center_id = $1 AND round_id = $2",
        center_id,
        round_id,
    )
    return None if row is None else SeenTally(**dict(row))
