"""Scoring use cases: take an event, use the adapters, publish through the outbox."""

from datetime import UTC, datetime

import asyncpg

from services.scoring.adapters.repository import save_score
from services.scoring.domain.scoring import judge, score_checklist, score_satisfaction
from shared.events import Envelope, SubmissionReceived, SubmissionScored, new_event
from shared.messaging.consumer import EventRejected
from shared.messaging.outbox import enqueue
from shared.standards import StandardCatalog
from shared.topics import Topic, TopicNames

SERVICE = "scoring"


def build_score(catalog: StandardCatalog, received: SubmissionReceived) -> SubmissionScored:
    standard = catalog.get(received.checklist.standard)
    if standard is None:
        raise EventRejected(f"unknown standard {received.checklist.standard!r}")
    satisfaction = score_satisfaction(received.satisfaction)
    checklist = score_checklist(standard, received.checklist)
    verdict, reasons = judge(standard, satisfaction, checklist)
    return SubmissionScored(
        submission_id=received.submission_id,
        version=received.version,
        center_id=received.center_id,
        round_id=received.round_id,
        standard=standard.id,
        standard_version=standard.version,
        scored_at=datetime.now(UTC),
        satisfaction=satisfaction,
        checklist=checklist,
        verdict=verdict,
        reasons=reasons,
    )


async def score_submission(
    conn: asyncpg.Connection,
    event: Envelope[SubmissionReceived],
    catalog: StandardCatalog,
    topics: TopicNames,
) -> None:
    score = build_score(catalog, event.data)
    if await save_score(conn, score, str(event.event_id)):
        scored = new_event(score, producer=SERVICE)
        await enqueue(conn, SERVICE, topics(Topic.SUBMISSION_SCORED), score.center_id, scored)
