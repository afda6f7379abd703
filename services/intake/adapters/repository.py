"""All of intake's SQL."""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.intake.domain.principals import Principal
from services.intake.domain.rounds import Round
from shared.events import SubmissionScored


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def principal_for(conn: asyncpg.Connection, token: str) -> Principal | None:
    row = await conn.fetchrow(
        "SELECT kind, center_id, office_path FROM api_tokens"
        " WHERE token_hash = $1 AND revoked_at IS NULL",
        token_hash(token),
    )
    return None if row is None else Principal(row["kind"], row["center_id"], row["office_path"])


def _round(row: asyncpg.Record) -> Round:
    return Round(**dict(row))


ROUND_COLUMNS = "id, kind, fiscal_year, period_start, period_end, opens_at, due_at, closes_at"


async def ensure_rounds(conn: asyncpg.Connection, rounds: Iterable[Round]) -> None:
    """Insert calendar rounds that do not exist yet; never overwrite dates an operator set."""
    await conn.executemany(
        f"INSERT INTO rounds ({ROUND_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (id) DO NOTHING",
        [
            (
                r.id,
                r.kind,
                r.fiscal_year,
                r.period_start,
                r.period_end,
                r.opens_at,
                r.due_at,
                r.closes_at,
            )
            for r in rounds
        ],
    )


async def list_rounds(conn: asyncpg.Connection) -> list[Round]:
    rows = await conn.fetch(f"SELECT {ROUND_COLUMNS} FROM rounds ORDER BY period_start, period_end")
    return [_round(r) for r in rows]


async def get_round(conn: asyncpg.Connection, round_id: str) -> Round | None:
    row = await conn.fetchrow(f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = $1", round_id)
    return None if row is None else _round(row)


async def lock_submission(
    conn: asyncpg.Connection, center_id: str, round_id: str
) -> tuple[UUID, int]:
    """The submission of a center for a round (created if new), locked, and its next version."""
    submission_id = await conn.fetchval(
        "INSERT INTO submissions (id, center_id, round_id) VALUES ($1, $2, $3)"
        " ON CONFLICT (center_id, round_id) DO UPDATE SET center_id = excluded.center_id"
        " RETURNING id",
        uuid4(),
        center_id,
        round_id,
    )
    version = await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM submission_versions WHERE submission_id = $1",
        submission_id,
    )
    return submission_id, version


async def insert_version(
    conn: asyncpg.Connection,
    submission_id: UUID,
    version: int,
    receipt_number: str,
    received_at: datetime,
    late: bool,
    body: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO submission_versions"
        " (submission_id, version, receipt_number, received_at, late, body)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        submission_id,
        version,
        receipt_number,
        received_at,
        late,
        body,
    )


async def get_submission(conn: asyncpg.Connection, submission_id: UUID) -> dict[str, Any] | None:
    head = await conn.fetchrow(
        "SELECT s.id, s.center_id, s.round_id, c.office_path FROM submissions s"
        " JOIN centers c ON c.id = s.center_id WHERE s.id = $1",
        submission_id,
    )
    if head is None:
        return None
    versions = await conn.fetch(
        "SELECT version, receipt_number, received_at, late, status, verdict, scorecard, scored_at"
        " FROM submission_versions WHERE submission_id = $1 ORDER BY version",
        submission_id,
    )
    return {**dict(head), "versions": [dict(v) for v in versions]}


async def record_score(conn: asyncpg.Connection, scored: SubmissionScored) -> None:
    await conn.execute(
        "UPDATE submission_versions SET status = 'scored', verdict = $3, scorecard = $4,"
        " scored_at = $5 WHERE submission_id = $1 AND version = $2",
        scored.submission_id,
        scored.version,
        scored.verdict,
        scored.model_dump(
            mode="json",
            include={"standard", "standard_version", "satisfaction", "checklist", "reasons"},
        ),
        scored.scored_at,
    )
