"""A center as people read it: the registry's row, and its state in every round."""

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from services.intake.adapters.repository import ROUND_COLUMNS, round_of
from services.intake.domain.centers import Center
from services.intake.domain.rounds import Round


@dataclass(frozen=True)
class CenterInRound:
    """A round with the center's submission in it (all None before its first version):
    the latest version's receipt, time, status, verdict and satisfaction source; ``late``:
    whether the first version came after the due time (as completeness counts it)."""

    round: Round
    submission_id: UUID | None
    latest_version: int | None
    receipt_number: str | None
    received_at: datetime | None
    late: bool | None
    status: Literal["received", "scored"] | None
    verdict: str | None
    extension_until: datetime | None
    satisfaction_source: str | None
    survey_responses: int | None


async def get_center(conn: asyncpg.Connection, center_id: str) -> Center | None:
    row = await conn.fetchrow(
        "SELECT id, name_th, name_en, office_path, province, certified_until, contact_emails"
        " FROM centers WHERE id = $1",
        center_id,
    )
    if row is None:
        return None
    return Center(**{**dict(row), "contact_emails": tuple(row["contact_emails"])})


ROUNDS_OF_CENTER = f"""
SELECT {", ".join(f"r.{column}" for column in ROUND_COLUMNS.split(", "))},
       s.id AS submission_id, s.latest_version, latest.receipt_number, latest.received_at,
       first.late, latest.status, latest.verdict, e.until AS extension_until,
       latest.satisfaction_source, latest.survey_responses
FROM rounds r
LEFT JOIN submissions s ON s.round_id = r.id AND s.center_id = $1
LEFT JOIN LATERAL (SELECT receipt_number, received_at, status, verdict, satisfaction_source,
                          survey_responses
                   FROM submission_versions WHERE submission_id = s.id
                   ORDER BY version DESC LIMIT 1) latest ON true
LEFT JOIN LATERAL (SELECT late FROM submission_versions WHERE submission_id = s.id
                   ORDER BY version LIMIT 1) first ON true
LEFT JOIN extensions e ON e.round_id = r.id AND e.center_id = $1
ORDER BY r.period_start, r.period_end
"""


async def rounds_of_center(conn: asyncpg.Connection, center_id: str) -> list[CenterInRound]:
    rows = await conn.fetch(ROUNDS_OF_CENTER, center_id)
    return [
        CenterInRound(round=round_of(row), **{name: row[name] for name in _STATE_COLUMNS})
        for row in rows
    ]


_STATE_COLUMNS = [f.name for f in fields(CenterInRound) if f.name != "round"]
