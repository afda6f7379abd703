"""The survey's directory in its schema: kept from the registry's and the calendar's
events, read whole into memory by the public page."""

import asyncpg

from services.survey.domain.directory import Center, Directory, Round
from shared.events import CenterRegistered, RoundScheduled


async def record_center(conn: asyncpg.Connection, center: CenterRegistered) -> None:
    await conn.execute(
        """
        INSERT INTO centers (center_id, name_th, name_en, office_path) VALUES ($1, $2, $3, $4)
        ON CONFLICT (center_id) DO UPDATE SET name_th = excluded.name_th,
            name_en = excluded.name_en, office_path = excluded.office_path, updated_at = now()
        """,
        center.center_id,
        center.name_th,
        center.name_en,
        center.office_path,
    )


async def record_round(conn: asyncpg.Connection, scheduled: RoundScheduled) -> None:
    await conn.execute(
        """
        INSERT INTO rounds (round_id, kind, period_start, period_end, opens_at, due_at,
                            closes_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (round_id) DO UPDATE SET kind = excluded.kind,
            period_start = excluded.period_start, period_end = excluded.period_end,
            opens_at = excluded.opens_at, due_at = excluded.due_at,
            closes_at = excluded.closes_at, updated_at = now()
        """,
        scheduled.round_id,
        scheduled.kind,
        scheduled.period_start,
        scheduled.period_end,
        scheduled.opens_at,
        scheduled.due_at,
        scheduled.closes_at,
    )


async def load(conn: asyncpg.Connection) -> Directory:
    centers = await conn.fetch("SELECT center_id, name_th, name_en, office_path FROM centers")
    rounds = await conn.fetch("SELECT round_id, kind, period_start, period_end FROM rounds")
    return Directory.of(
        (Center(r["center_id"], r["name_th"], r["name_en"], r["office_path"]) for r in centers),
        (Round(r["round_id"], r["kind"], r["period_start"], r["period_end"]) for r in rounds),
    )
