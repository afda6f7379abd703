"""Operators' use cases for scoring, run by the ``gecc`` command."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.scoring import handlers
from services.scoring.adapters import repository
from services.scoring.domain.history import previous_round_id
from services.scoring.metrics import ScoringMetrics
from shared.events import SubmissionReceived, SubmissionScored
from shared.standards import StandardCatalog


@dataclass(frozen=True)
class Rescored:
    checked: int
    changed: list[str]


def _outcome(score: SubmissionScored) -> tuple[object, ...]:
    return (
        score.verdict,
        score.satisfaction.overall_percent,
        score.checklist.overall_percent,
        tuple(r.code for r in score.reasons),
        score.change,
    )


async def rescore_round(
    conn: asyncpg.Connection,
    catalog: StandardCatalog,
    round_id: str,
    metrics: ScoringMetrics,
    now: datetime,
    standard_id: str | None = None,
) -> Rescored:
    """Score each center's latest version of a round again with the standards now loaded;
    publish a new score version only where the result changed."""
    changed: list[str] = []
    rows = await repository.latest_of_round(conn, round_id)
    checked = 0
    for row in rows:
        received = SubmissionReceived.model_validate_json(row["received"])
        current = SubmissionScored.model_validate_json(row["scorecard"])
        if standard_id is not None and received.checklist.standard != standard_id:
            continue
        checked += 1
        previous = await repository.latest_result(
            conn, received.center_id, previous_round_id(round_id)
        )
        again = handlers.build_score(catalog, received, now, previous, row["score_version"] + 1)
        if _outcome(again) == _outcome(current):
            continue
        await handlers.publish_score(conn, again, row["received_event_id"], metrics)
        changed.append(received.center_id)
    return Rescored(checked, changed)
