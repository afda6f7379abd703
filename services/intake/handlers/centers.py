"""What people read of a center, if it is theirs to see (the center itself, the offices above
it, operators; anyone else is told there is no such center)."""

import asyncpg

from services.intake.adapters import centers
from services.intake.adapters.centers import CenterInRound
from services.intake.domain.centers import Center
from services.intake.domain.principals import Principal
from services.intake.handlers.errors import NotFound


async def find_center(pool: asyncpg.Pool, who: Principal, center_id: str) -> Center:
    async with pool.acquire() as conn:
        return await _readable(conn, who, center_id)


async def center_rounds(pool: asyncpg.Pool, who: Principal, center_id: str) -> list[CenterInRound]:
    """Every round with the center's submission in it."""
    async with pool.acquire() as conn:
        await _readable(conn, who, center_id)
        return await centers.rounds_of_center(conn, center_id)


async def _readable(conn: asyncpg.Connection, who: Principal, center_id: str) -> Center:
    center = await centers.get_center(conn, center_id)
    if center is None or not who.can_read(center.id, center.office_path):
        raise NotFound(center_id)
    return center
