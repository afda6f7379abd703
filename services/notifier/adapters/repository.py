import asyncpg

from shared.events import SubmissionReceived, SubmissionScored


async def record_submission(conn: asyncpg.Connection, received: SubmissionReceived) -> None:
    await conn.execute(
        """
        INSERT INTO round_submissions (round_id, center_id, first_received_at, latest_version, late)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (round_id, center_id) DO UPDATE SET
            first_received_at =
                least(round_submissions.first_received_at, excluded.first_received_at),
            latest_version = greatest(round_submissions.latest_version, excluded.latest_version),
            late = CASE WHEN excluded.latest_version > round_submissions.latest_version
                        THEN excluded.late ELSE round_submissions.late END
        """,
        received.round_id,
        received.center_id,
        received.received_at,
        received.version,
        received.late,
    )


async def record_result(conn: asyncpg.Connection, scored: SubmissionScored) -> None:
    await conn.execute(
        """
        INSERT INTO submission_results
            (submission_id, version, center_id, round_id, verdict, scored_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (submission_id, version) DO NOTHING
        """,
        scored.submission_id,
        scored.version,
        scored.center_id,
        scored.round_id,
        scored.verdict,
        scored.scored_at,
    )
