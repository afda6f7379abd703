"""Administrative use cases run by operators' tools (the ``gecc`` command), not over HTTP."""

import secrets
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.intake.adapters.repository import token_hash
from services.intake.domain.centers import Center
from services.intake.domain.principals import PrincipalKind


async def register_centers(conn: asyncpg.Connection, centers: Sequence[Center]) -> None:
    """Insert or update centers by id; re-registering the same registry changes nothing."""
    await conn.executemany(
        """
        INSERT INTO centers (id, name_th, name_en, office_path, province, certified_until)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET name_th = excluded.name_th, name_en = excluded.name_en,
            office_path = excluded.office_path, province = excluded.province,
            certified_until = excluded.certified_until, updated_at = now()
        """,
        [
            (c.id, c.name_th, c.name_en, c.office_path, c.province, c.certified_until)
            for c in centers
        ],
    )


async def issue_token(
    conn: asyncpg.Connection,
    kind: PrincipalKind,
    center_id: str | None = None,
    office_path: str | None = None,
    label: str = "",
) -> str:
    """A new API token; only its hash is stored, so the caller must show it now."""
    token = f"gecc_{kind}_{secrets.token_urlsafe(32)}"
    await conn.execute(
        "INSERT INTO api_tokens (token_hash, kind, center_id, office_path, label)"
        " VALUES ($1, $2, $3, $4, $5)",
        token_hash(token),
        kind,
        center_id,
        office_path,
        label,
    )
    return token


async def set_round_dates(
    conn: asyncpg.Connection,
    round_id: str,
    opens_at: datetime,
    due_at: datetime,
    closes_at: datetime,
) -> None:
    updated = await conn.execute(
        "UPDATE rounds SET opens_at = $2, due_at = $3, closes_at = $4 WHERE id = $1",
        round_id,
        opens_at,
        due_at,
        closes_at,
    )
    if updated != "UPDATE 1":
        raise LookupError(f"no round {round_id}")
