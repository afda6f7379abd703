"""Parent offices' names and the offices below one, in intake's database."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import asyncpg

from services.intake.domain.offices import Office


@dataclass(frozen=True)
class ChildOffice:
    path: str
    name_th: str | None
    name_en: str | None
    centers: int


async def upsert_offices(conn: asyncpg.Connection, offices: Sequence[Office]) -> tuple[int, int]:
    """Add new offices and rename changed ones; (added, renamed)."""
    rows = await conn.fetch(
        """
        INSERT INTO offices (path, name_th, name_en)
        SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
        ON CONFLICT (path) DO UPDATE SET name_th = excluded.name_th, name_en = excluded.name_en
        WHERE (offices.name_th, offices.name_en)
            IS DISTINCT FROM (excluded.name_th, excluded.name_en)
        RETURNING xmax = 0 AS added
        """,
        [o.path for o in offices],
        [o.name_th for o in offices],
        [o.name_en for o in offices],
    )
    added = sum(1 for row in rows if row["added"])
    return added, len(rows) - added


async def names(conn: asyncpg.Connection, paths: Collection[str]) -> dict[str, tuple[str, str]]:
    """(Thai, English) names of those of ``paths`` that have them."""
    rows = await conn.fetch(
        "SELECT path, name_th, name_en FROM offices WHERE path = ANY($1::text[])", list(paths)
    )
    return {row["path"]: (row["name_th"], row["name_en"]) for row in rows}


async def children(conn: asyncpg.Connection, path: str) -> list[ChildOffice]:
    """The offices directly below ``path`` that have centers, with how many each has (all
    levels below it), ordered by path."""
    rows = await conn.fetch(
        """
        SELECT child.path, o.name_th, o.name_en, child.centers
        FROM (SELECT split_part(substr(c.office_path, length($1) + 2), '/', 1) AS segment,
                     count(*) AS centers
              FROM centers c WHERE starts_with(c.office_path, $1 || '/')
              GROUP BY 1) below
        CROSS JOIN LATERAL (SELECT $1 || '/' || below.segment AS path,
                                   below.centers) child
        LEFT JOIN offices o ON o.path = child.path
        ORDER BY child.path
        """,
        path,
    )
    return [ChildOffice(r["path"], r["name_th"], r["name_en"], r["centers"]) for r in rows]


async def has_centers(conn: asyncpg.Connection, path: str) -> bool:
    """Whether any center reports through ``path`` (it or an office below it)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM centers c WHERE c.office_path = $1"
            " OR starts_with(c.office_path, $1 || '/'))",
            path,
        )
    )
