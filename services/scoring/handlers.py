"""Scoring use cases: take an event, use the adapters, publish through the outbox."""

import time
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.scoring.adapters import repository
from services.scoring.adapters.previous_results import PreviousResults
from services.scoring.domain.history import compare, previous_round_id
from services.scoring.domain.scoring import judge, sample_of, score_checklist, score_satisfaction
from services.scoring.metrics import ScoringMetrics
from shared.clock import Clock
from shared.events import (
    Envelope,
    PreviousResult,
    SourceSummary,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.messaging.consumer import EventRejected
from shared.messaging.outbox import enqueue, outbox_values
from shared.standards import StandardCatalog
from shared.topics import Topic

SERVICE = "scoring"


def build_score(
    catalog: StandardCatalog,
    received: SubmissionReceived,
    scored_at: datetime,
    previous: PreviousResult | None = None,
    score_version: int = 1,
) -> SubmissionScored:
    standard = catalog.get(received.checklist.standard)
    if standard is None:
        raise EventRejected(f"unknown standard {received.checklist.standard!r}")
    satisfaction = score_satisfaction(received.satisfaction)
    checklist = score_checklist(standard, received.checklist)
    verdict, reasons = judge(standard, satisfaction, checklist, sample_of(received.satisfaction))
    change, satisfaction_change, checklist_change = compare(
        verdict, satisfaction.overall_percent, checklist.overall_percent, previous
    )
    return SubmissionScored(
        submission_id=received.submission_id,
        version=received.version,
        center_id=received.center_id,
        round_id=received.round_id,
        standard=standard.id,
        standard_version=standard.version,
        scored_at=scored_at,
        satisfaction=satisfaction,
        checklist=checklist,
        verdict=verdict,
        reasons=reasons,
        score_version=score_version,
        previous=previous,
        change=change,
        satisfaction_change=satisfaction_change,
        checklist_change=checklist_change,
        satisfaction_source=SourceSummary.of(received.satisfaction.source),
    )


async def publish_score(
    conn: asyncpg.Connection,
    score: SubmissionScored,
    source_event: str,
    metrics: ScoringMetrics,
) -> bool:
    """Store a score version and its event; False (and nothing published) if it existed."""
    if not await repository.save_score(conn, score, source_event):
        return False
    scored = new_event(score, producer=SERVICE, occurred_at=score.scored_at)
    await enqueue(conn, Topic.SUBMISSION_SCORED, score.center_id, scored)
    metrics.verdicts.labels(score.round_id, score.verdict).inc()
    return True


async def score_submissions(
    conn: asyncpg.Connection,
    events: Sequence[Envelope[SubmissionReceived]],
    catalog: StandardCatalog,
    metrics: ScoringMetrics,
    clock: Clock,
) -> None:
    """Score a batch of received versions in order, each against the previous round's latest
    result of its center (read for the whole batch at once, and including the scores made
    earlier in the batch), then keep them, their scores and the scores' events in one
    statement: in a round's burst the scorer waits on its round trips to PostgreSQL."""
    started = time.perf_counter()
    previous_results = await PreviousResults.of_batch(conn, events)
    versions = []
    for event in events:
        received = event.data
        previous = previous_results.of(received.center_id, previous_round_id(received.round_id))
        score = build_score(catalog, received, clock.now(), previous)
        previous_results.note(score)
        scored = new_event(score, producer=SERVICE, occurred_at=score.scored_at)
        versions.append(
            repository.ScoredVersion(
                received,
                str(event.event_id),
                score,
                outbox_values(Topic.SUBMISSION_SCORED, score.center_id, scored),
            )
        )
    new = await repository.keep_and_score_many(conn, versions)
    for version in versions:
        score = version.score
        if (score.submission_id, score.version) in new:
            metrics.verdicts.labels(score.round_id, score.verdict).inc()
    each = (time.perf_counter() - started) / max(len(events), 1)
    for _ in events:
        metrics.duration.observe(each)
