"""Parent offices: their names (imported by operators) and the offices below one."""

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from services.intake.adapters import audit, offices
from services.intake.adapters.offices import ChildOffice
from services.intake.domain.completeness import in_scope
from services.intake.domain.offices import Office, parent_of, path_problem
from services.intake.handlers.errors import NotFound


@dataclass(frozen=True)
class OfficeInfo:
    path: str
    name_th: str | None
    name_en: str | None
    parent: str | None
    children: list[ChildOffice]


async def import_offices(
    conn: asyncpg.Connection, listed: Sequence[Office], actor: str
) -> tuple[int, int]:
    """Add new offices and rename changed ones in one transaction, audited once for the
    file; (added, renamed)."""
    async with conn.transaction():
        added, renamed = await offices.upsert_offices(conn, listed)
        await audit.record(
            conn,
            actor,
            "offices.import",
            "offices",
            {"rows": len(listed), "added": added, "renamed": renamed},
        )
    return added, renamed


async def office(pool: asyncpg.Pool, path: str, scope: str) -> OfficeInfo:
    """An office of the caller's ``scope`` through which some center reports; NotFound
    otherwise (outside the scope looks the same as unknown)."""
    if path_problem(path) is not None or not in_scope(path, scope):
        raise NotFound(path)
    async with pool.acquire() as conn:
        if not await offices.has_centers(conn, path):
            raise NotFound(path)
        name_th, name_en = (await offices.names(conn, [path])).get(path, (None, None))
        below = await offices.children(conn, path)
    return OfficeInfo(path, name_th, name_en, parent_of(path), below)
