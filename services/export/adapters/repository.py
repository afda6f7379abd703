import asyncpg

from shared.events import SubmissionReceived, SubmissionScored


async def record_received(conn: asyncpg.Connection, received: SubmissionReceived) -> None:
    await conn.execute(
        """
        INSERT INTO submission_versions
            (submission_id, version, center_id, round_id, received_at, late)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (submission_id, version) DO UPDATE
            SET received_at = excluded.received_at, late = excluded.late
        """,
        received.submission_id,
        received.version,
        received.center_id,
        received.round_id,
        received.received_at,
        received.late,
    )


async def record_scored(conn: asyncpg.Connection, scored: SubmissionScored) -> None:
    # Scored may overtake received (different topics): insert the row if it is not there yet.
    await conn.execute(
        """
        INSERT INTO submission_versions (submission_id, version, center_id, round_id,
            satisfaction_percent, checklist_percent, verdict, reasons, scored_at, score_version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (submission_id, version) DO UPDATE SET
            satisfaction_percent = excluded.satisfaction_percent,
            checklist_percent = excluded.checklist_percent,
            verdict = excluded.verdict, reasons = excluded.reasons, scored_at = excluded.scored_at,
            score_version = excluded.score_version
        WHERE submission_versions.score_version IS NULL
           OR submission_versions.score_version < excluded.score_version
        """,
        scored.submission_id,
        scored.version,
        scored.center_id,
        scored.round_id,
        scored.satisfaction.overall_percent,
        scored.checklist.overall_percent,
        scored.verdict,
        [r.model_dump(mode="json") for r in scored.reasons],
        scored.scored_at,
        scored.score_version,
    )
