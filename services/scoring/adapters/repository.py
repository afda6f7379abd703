import asyncpg

from shared.events import SubmissionScored


async def save_score(
    conn: asyncpg.Connection, score: SubmissionScored, received_event_id: str
) -> bool:
    """Store the score of a submission version; False if that version was already scored."""
    inserted = await conn.fetchval(
        """
        INSERT INTO scores (submission_id, version, center_id, round_id, standard,
            standard_version, satisfaction_percent, checklist_percent, verdict, scorecard,
            received_event_id, scored_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (submission_id, version) DO NOTHING
        RETURNING true
        """,
        score.submission_id,
        score.version,
        score.center_id,
        score.round_id,
        score.standard,
        score.standard_version,
        score.satisfaction.overall_percent,
        score.checklist.overall_percent,
        score.verdict,
        score.model_dump(mode="json"),
        received_event_id,
        score.scored_at,
    )
    return bool(inserted)
