"""All of intake's SQL."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.domain.completeness import (
    VERDICTS,
    CenterState,
    LevelCounts,
    ListName,
    scorecard_reasons,
)
from services.intake.domain.principals import Principal
from services.intake.domain.rounds import Round
from shared.events import ExportStatus, SubmissionScored


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def principal_for(conn: asyncpg.Connection, token: str, now: datetime) -> Principal | None:
    return await principal_by_hash(conn, token_hash(token), now)


async def principal_by_hash(
    conn: asyncpg.Connection, key: bytes, now: datetime
) -> Principal | None:
    """The principal of an API token, or of a session still open at ``now`` of an enabled
    account; None for anything else."""
    row = await conn.fetchrow(
        "SELECT t.kind, t.center_id, t.office_path, t.id, t.label, t.account_id, a.email,"
        " t.expires_at FROM api_tokens t LEFT JOIN accounts a ON a.id = t.account_id"
        " WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        " AND (t.account_id IS NULL OR (a.enabled AND t.expires_at > $2))",
        key,
        now,
    )
    if row is None:
        return None
    return Principal(
        kind=row["kind"],
        center_id=row["center_id"],
        office_path=row["office_path"],
        token_id=str(row["id"]),
        label=row["label"],
        account_id=row["account_id"],
        email=row["email"],
        expires_at=row["expires_at"],
    )


ROUND_COLUMNS = "id, kind, fiscal_year, period_start, period_end, opens_at, due_at, closes_at"

# Centers in the office subtree named by the query's $2 (the same rule as domain in_scope).
IN_SCOPE = "(c.office_path = $2 OR c.office_path LIKE $2 || '/%')"


def round_of(row: asyncpg.Record) -> Round:
    return Round(**{column: row[column] for column in ROUND_COLUMNS.split(", ")})


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
    return [round_of(r) for r in rows]


async def get_round(conn: asyncpg.Connection, round_id: str) -> Round | None:
    row = await conn.fetchrow(f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = $1", round_id)
    return None if row is None else round_of(row)


async def change_round_dates(
    conn: asyncpg.Connection,
    round_id: str,
    opens_at: datetime,
    due_at: datetime,
    closes_at: datetime,
) -> bool:
    """False when there is no such round."""
    status = await conn.execute(
        "UPDATE rounds SET opens_at = $2, due_at = $3, closes_at = $4 WHERE id = $1",
        round_id,
        opens_at,
        due_at,
        closes_at,
    )
    return bool(status == "UPDATE 1")


async def lock_round(conn: asyncpg.Connection, round_id: str) -> Round | None:
    row = await conn.fetchrow(
        f"SELECT {ROUND_COLUMNS} FROM rounds WHERE id = $1 FOR UPDATE", round_id
    )
    return None if row is None else round_of(row)


async def grant_extension(
    conn: asyncpg.Connection,
    round_id: str,
    center_id: str,
    until: datetime,
    reason: str,
    granted_by: str,
) -> None:
    await conn.execute(
        """
        INSERT INTO extensions (round_id, center_id, until, reason, granted_by)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (round_id, center_id) DO UPDATE SET until = excluded.until,
            reason = excluded.reason, granted_by = excluded.granted_by, granted_at = now()
        """,
        round_id,
        center_id,
        until,
        reason,
        granted_by,
    )


async def list_extensions(
    conn: asyncpg.Connection, round_id: str, scope: str
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"""
        SELECT e.center_id, e.until, e.reason, e.granted_by, e.granted_at FROM extensions e
        JOIN centers c ON c.id = e.center_id
        WHERE e.round_id = $1 AND {IN_SCOPE}
        ORDER BY e.center_id
        """,
        round_id,
        scope,
    )
    return [dict(r) for r in rows]


async def extensions_until(conn: asyncpg.Connection, round_id: str) -> dict[str, datetime]:
    """Until when each center with an extension in the round may submit."""
    rows = await conn.fetch("SELECT center_id, until FROM extensions WHERE round_id = $1", round_id)
    return {row["center_id"]: row["until"] for row in rows}


async def center_office_path(conn: asyncpg.Connection, center_id: str) -> str | None:
    path: str | None = await conn.fetchval(
        "SELECT office_path FROM centers WHERE id = $1", center_id
    )
    return path


async def own_submission_id(conn: asyncpg.Connection, center_id: str, round_id: str) -> UUID | None:
    found: UUID | None = await conn.fetchval(
        "SELECT id FROM submissions WHERE center_id = $1 AND round_id = $2", center_id, round_id
    )
    return found


# Each center of the subtree named by $2 in the round $1: its submission (if any), the first
# version (late or not) and the latest (its verdict). Versions are numbered from 1 and the
# submission row knows its latest (migration 003), so both are primary-key joins.
CENTER_STATES = f"""
    FROM centers c
    LEFT JOIN submissions s ON s.center_id = c.id AND s.round_id = $1
    LEFT JOIN submission_versions first ON first.submission_id = s.id AND first.version = 1
    LEFT JOIN submission_versions latest
        ON latest.submission_id = s.id AND latest.version = s.latest_version
    WHERE {IN_SCOPE}
"""
LIST_FILTERS: dict[ListName, str] = {
    "missing": "s.id IS NULL",
    "late": "s.id IS NOT NULL AND first.late",
    "follow_up": "latest.verdict IN ('at_risk', 'not_maintained')",
    "centers": "true",
}


async def office_counts(conn: asyncpg.Connection, round_id: str, office: str) -> list[LevelCounts]:
    """Per office path of ``office``'s subtree, the counts of the centers reporting directly
    through it (``domain.completeness.roll_up`` adds them up the tree): one row per office,
    not per center, so even the whole registry is a few hundred rows."""
    rows = await conn.fetch(
        f"""
        SELECT c.office_path, count(*) AS expected, count(s.id) AS submitted,
               count(s.id) FILTER (WHERE first.late) AS late,
               count(s.id) FILTER (WHERE latest.verdict = 'maintained') AS maintained,
               count(s.id) FILTER (WHERE latest.verdict = 'at_risk') AS at_risk,
               count(s.id) FILTER (WHERE latest.verdict = 'not_maintained') AS not_maintained,
               count(s.id) FILTER (WHERE latest.verdict IS NULL) AS pending
        {CENTER_STATES}
        GROUP BY c.office_path
        """,
        round_id,
        office,
    )
    return [
        LevelCounts(
            office_path=r["office_path"],
            depth=r["office_path"].count("/"),
            expected=r["expected"],
            submitted=r["submitted"],
            on_time=r["submitted"] - r["late"],
            late=r["late"],
            missing=r["expected"] - r["submitted"],
            verdicts={v: r[v] for v in (*VERDICTS, "pending")},
        )
        for r in rows
    ]


async def center_list(
    conn: asyncpg.Connection,
    round_id: str,
    office: str,
    name: ListName,
    limit: int | None,
    offset: int = 0,
) -> list[CenterState]:
    """One page of a list of centers of ``office``'s subtree, ordered by (office path, center
    id); ``limit`` None: all of it. Only follow-up reads the reasons of the scorecard. The
    latest version's satisfaction source is read from its row (not its report)."""
    reasons = "latest.scorecard -> 'reasons'" if name == "follow_up" else "NULL::jsonb"
    rows = await conn.fetch(
        f"""
        SELECT c.id AS center_id, c.name_th, c.office_path, c.province,
               s.id AS submission_id, coalesce(first.late, false) AS late, latest.verdict,
               {reasons} AS reasons, latest.satisfaction_source, latest.survey_responses
        {CENTER_STATES} AND {LIST_FILTERS[name]}
        ORDER BY c.office_path, c.id
        LIMIT $3 OFFSET $4
        """,
        round_id,
        office,
        limit,
        offset,
    )
    return [
        CenterState(
            center_id=r["center_id"],
            name_th=r["name_th"],
            office_path=r["office_path"],
            province=r["province"],
            submitted=r["submission_id"] is not None,
            late=r["late"],
            verdict=r["verdict"],
            submission_id=None if r["submission_id"] is None else str(r["submission_id"]),
            reasons=scorecard_reasons({"reasons": r["reasons"]}),
            satisfaction_source=r["satisfaction_source"],
            survey_responses=r["survey_responses"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AuditQuery:
    """Which audit entries: by target and actor prefix, time (since inclusive, until
    exclusive) and, for paging, older than the entry ``before``."""

    target: str = ""
    actor: str = ""
    since: datetime | None = None
    until: datetime | None = None
    before: int | None = None


def _prefix(text: str) -> str:
    """A LIKE pattern matching text starting with ``text`` (its own % and _ taken literally)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


async def audit_entries(
    conn: asyncpg.Connection, query: AuditQuery, limit: int
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT id, at, actor, action, target, details, remote_addr FROM audit_log"
        " WHERE target LIKE $1 AND actor LIKE $2"
        " AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)"
        " AND ($5::bigint IS NULL OR id < $5)"
        " ORDER BY id DESC LIMIT $6",
        _prefix(query.target),
        _prefix(query.actor),
        query.since,
        query.until,
        query.before,
        limit,
    )
    return [dict(r) for r in rows]


SUBMISSION_HEAD = (
    "SELECT s.id, s.center_id, s.round_id, c.office_path FROM submissions s"
    " JOIN centers c ON c.id = s.center_id WHERE s.id = $1"
)
VERSION_COLUMNS = (
    "version, receipt_number, received_at, late, extension, status, verdict, scorecard, scored_at,"
    " satisfaction_source, survey_responses"
)


async def get_submission(conn: asyncpg.Connection, submission_id: UUID) -> dict[str, Any] | None:
    """A submission with every version (not their reports: ``get_version`` has one)."""
    head = await conn.fetchrow(SUBMISSION_HEAD, submission_id)
    if head is None:
        return None
    versions = await conn.fetch(
        f"SELECT {VERSION_COLUMNS} FROM submission_versions WHERE submission_id = $1"
        " ORDER BY version",
        submission_id,
    )
    return {**dict(head), "versions": [dict(v) for v in versions]}


async def get_version(
    conn: asyncpg.Connection, submission_id: UUID, version: int
) -> dict[str, Any] | None:
    """One version of a submission with its report as it was sent."""
    head = await conn.fetchrow(SUBMISSION_HEAD, submission_id)
    found = await conn.fetchrow(
        f"SELECT {VERSION_COLUMNS}, body AS report FROM submission_versions"
        " WHERE submission_id = $1 AND version = $2",
        submission_id,
        version,
    )
    if head is None or found is None:
        return None
    return {**dict(head), **dict(found)}


async def record_score(conn: asyncpg.Connection, scored: SubmissionScored) -> None:
    """Show a score on its submission version, unless a later score version is shown."""
    await conn.execute(
        "UPDATE submission_versions SET status = 'scored', verdict = $3, scorecard = $4,"
        " scored_at = $5 WHERE submission_id = $1 AND version = $2"
        " AND coalesce((scorecard ->> 'score_version')::int, 0) < $6",
        scored.submission_id,
        scored.version,
        scored.verdict,
        scored.model_dump(
            mode="json",
            exclude={"submission_id", "version", "center_id", "round_id", "verdict", "scored_at"},
        ),
        scored.scored_at,
        scored.score_version,
    )


async def add_export_request(
    conn: asyncpg.Connection, request_id: UUID, round_id: str, who: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO export_requests (request_id, round_id, requested_by, requested_at)"
        " VALUES ($1, $2, $3, $4)",
        request_id,
        round_id,
        who,
        at,
    )


async def record_export_status(conn: asyncpg.Connection, status: ExportStatus) -> None:
    """Keep the latest state of an export (an older status arriving late changes nothing)."""
    await conn.execute(
        """
        INSERT INTO exports (export_id, round_id, kind, trigger, request_id, state, records,
            batches, batches_acknowledged, attempts, last_error, counts, acknowledged,
            created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        ON CONFLICT (export_id) DO UPDATE SET state = excluded.state,
            records = excluded.records, batches = excluded.batches,
            batches_acknowledged = excluded.batches_acknowledged,
            attempts = excluded.attempts, last_error = excluded.last_error,
            counts = excluded.counts, acknowledged = excluded.acknowledged,
            updated_at = excluded.updated_at
        WHERE exports.updated_at <= excluded.updated_at
        """,
        status.export_id,
        status.round_id,
        status.kind,
        status.trigger,
        status.request_id,
        status.state,
        status.records,
        status.batches,
        status.batches_acknowledged,
        status.attempts,
        status.last_error,
        status.counts,
        status.acknowledged,
        status.created_at,
        status.updated_at,
    )


async def round_exports(conn: asyncpg.Connection, round_id: str) -> dict[str, list[dict[str, Any]]]:
    exports = await conn.fetch(
        "SELECT export_id, kind, trigger, request_id, state, records, batches,"
        " batches_acknowledged, attempts, last_error, counts, acknowledged, created_at,"
        " updated_at FROM exports WHERE round_id = $1 ORDER BY created_at",
        round_id,
    )
    requests = await conn.fetch(
        "SELECT request_id, requested_by, requested_at FROM export_requests"
        " WHERE round_id = $1 ORDER BY requested_at",
        round_id,
    )
    return {"requests": [dict(r) for r in requests], "exports": [dict(e) for e in exports]}


async def round_progress(conn: asyncpg.Connection, at: datetime) -> list[asyncpg.Record]:
    """For each round open by ``at``: its due time, the centers expected (the registry),
    those that submitted, and those whose first version was late."""
    return await conn.fetch(
        """
        SELECT r.id, r.due_at, (SELECT count(*) FROM centers) AS expected,
               count(s.id) AS submitted, count(s.id) FILTER (WHERE first.late) AS late
        FROM rounds r
        LEFT JOIN submissions s ON s.round_id = r.id
        LEFT JOIN LATERAL (SELECT late FROM submission_versions
                           WHERE submission_id = s.id ORDER BY version LIMIT 1) first ON true
        WHERE r.opens_at <= $1
        GROUP BY r.id, r.due_at
        """,
        at,
    )


@dataclass(frozen=True)
class ScoringLag:
    """Seconds from a version's receipt to its score, over a round's scored versions."""

    p50: float
    p99: float
    max: float


@dataclass(frozen=True)
class RoundSubmissions:
    """A round's submissions: how many, how many late (their first version) and amended,
    the latest version's verdicts (None: not scored yet), and every version's scoring."""

    submitted: int
    late: int
    amended: int
    verdicts: dict[str | None, int]
    versions: int
    versions_scored: int
    scoring_lag: ScoringLag | None


async def round_submissions(conn: asyncpg.Connection, round_id: str) -> RoundSubmissions:
    by_verdict = await conn.fetch(
        """
        SELECT latest.verdict, count(*) AS submitted,
               count(*) FILTER (WHERE first.late) AS late,
               count(*) FILTER (WHERE versions.n > 1) AS amended,
               sum(versions.n) AS versions, sum(versions.scored) AS scored
        FROM submissions s
        CROSS JOIN LATERAL (SELECT count(*) AS n, count(scored_at) AS scored
                            FROM submission_versions WHERE submission_id = s.id) versions
        CROSS JOIN LATERAL (SELECT late FROM submission_versions
                            WHERE submission_id = s.id ORDER BY version LIMIT 1) first
        CROSS JOIN LATERAL (SELECT verdict FROM submission_versions
                            WHERE submission_id = s.id ORDER BY version DESC LIMIT 1) latest
        WHERE s.round_id = $1
        GROUP BY latest.verdict
        """,
        round_id,
    )
    lag = await conn.fetchrow(
        """
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99, max(lag) AS max
        FROM (SELECT extract(epoch FROM v.scored_at - v.received_at)::float8 AS lag
              FROM submissions s JOIN submission_versions v ON v.submission_id = s.id
              WHERE s.round_id = $1 AND v.scored_at IS NOT NULL) lags
        """,
        round_id,
    )
    assert lag is not None
    return RoundSubmissions(
        submitted=sum(r["submitted"] for r in by_verdict),
        late=sum(r["late"] for r in by_verdict),
        amended=sum(r["amended"] for r in by_verdict),
        verdicts={r["verdict"]: r["submitted"] for r in by_verdict},
        versions=sum(r["versions"] for r in by_verdict),
        versions_scored=sum(r["scored"] for r in by_verdict),
        scoring_lag=None if lag["max"] is None else ScoringLag(lag["p50"], lag["p99"], lag["max"]),
    )
