"""Intake use cases."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.adapters import repository
from services.intake.domain.submissions import SubmissionRefused, accept, receipt_number
from shared.events import Envelope, SubmissionReceived, SubmissionScored, new_event
from shared.messaging.outbox import enqueue
from shared.submission import SubmissionBody
from shared.topics import Topic, TopicNames

SERVICE = "intake"


async def submit(
    pool: asyncpg.Pool, topics: TopicNames, center_id: str, body: SubmissionBody
) -> SubmissionReceived:
    """Store a new version of the center's submission and its event in one transaction."""
    received_at = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        round_ = await repository.get_round(conn, body.round_id)
        if round_ is None:
            raise SubmissionRefused(
                "round_not_found", f"no round {body.round_id}", f"ไม่พบรอบ {body.round_id}"
            )
        acceptance = accept(round_, received_at)
        submission_id, version = await repository.lock_submission(conn, center_id, round_.id)
        received = SubmissionReceived(
            submission_id=submission_id,
            version=version,
            receipt_number=receipt_number(round_.id, center_id, version),
            center_id=center_id,
            round_id=round_.id,
            received_at=received_at,
            late=acceptance.late,
            satisfaction=body.satisfaction,
            checklist=body.checklist,
        )
        await repository.insert_version(
            conn,
            submission_id,
            version,
            received.receipt_number,
            received_at,
            acceptance.late,
            body.model_dump(mode="json"),
        )
        event = new_event(received, producer=SERVICE, occurred_at=received_at)
        await enqueue(conn, SERVICE, topics(Topic.SUBMISSION_RECEIVED), center_id, event)
    return received


async def note_score(conn: asyncpg.Connection, event: Envelope[SubmissionScored]) -> None:
    """Show the score on the submission version (intake's read model)."""
    await repository.record_score(conn, event.data)


async def find_submission(pool: asyncpg.Pool, submission_id: UUID) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        return await repository.get_submission(conn, submission_id)
