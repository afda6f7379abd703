"""All of scoring's SQL."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from shared.events import PreviousResult, SubmissionReceived, SubmissionScored
from shared.messaging.outbox import OUTBOX_INSERT

SCORE_INSERT = """
    INSERT INTO scores (submission_id, version, score_version, center_id, round_id,
        standard, standard_version, satisfaction_percent, checklist_percent, verdict,
        scorecard, received_event_id, scored_at)
"""


def score_values(score: SubmissionScored, received_event_id: str) -> tuple[Any, ...]:
    return (
        score.submission_id,
        score.version,
        score.score_version,
        score.center_id,
        score.round_id,
        score.standard,
        score.standard_version,
        score.satisfaction.overall_percent,
        score.checklist.overall_percent,
        score.verdict,
        score.model_dump_json(),
        received_event_id,
        score.scored_at,
    )


@dataclass(frozen=True)
class ScoredVersion:
    """A received version, its first score and that score's outbox row (``outbox_values``)."""

    received: SubmissionReceived
    received_event_id: str
    score: SubmissionScored
    event: tuple[Any, str, str, bytes]


async def keep_and_score_many(
    conn: asyncpg.Connection, versions: Sequence[ScoredVersion]
) -> set[tuple[UUID, int]]:
    """In one statement: each received version (once), its first score and the score's event,
    only where the score is new; returns the (submission, version) pairs whose score was
    new (their events are in the outbox in the batch's order)."""
    first: dict[tuple[UUID, int, int], ScoredVersion] = {}
    for v in versions:  # the same score twice in a batch: the first one
        first.setdefault((v.score.submission_id, v.score.version, v.score.score_version), v)
    rows = list(first.values())
    if not rows:
        return set()
    scores = list(zip(*(score_values(v.score, v.received_event_id) for v in rows), strict=True))
    events = list(zip(*(v.event for v in rows), strict=True))
    new = await conn.fetch(
        f"""
        WITH kept AS (
            INSERT INTO received_submissions
                (submission_id, version, center_id, round_id, received)
            SELECT submission_id, version, center_id, round_id, received::jsonb
            FROM unnest($1::uuid[], $2::int[], $4::text[], $5::text[], $14::text[])
                AS r (submission_id, version, center_id, round_id, received)
            ON CONFLICT DO NOTHING
        ), scored AS (
            {SCORE_INSERT}
            SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::text[], $5::text[],
                $6::text[], $7::int[], $8::float8[], $9::float8[], $10::text[],
                $11::text[]::jsonb[], $12::uuid[], $13::timestamptz[])
            ON CONFLICT (submission_id, version, score_version) DO NOTHING
            RETURNING submission_id, version
        ), event AS (
            {OUTBOX_INSERT}
            SELECT e.event_id, e.topic, e.message_key, e.payload
            FROM unnest($15::uuid[], $16::text[], $17::text[], $18::bytea[], $1::uuid[],
                        $2::int[]) WITH ORDINALITY
                AS e (event_id, topic, message_key, payload, submission_id, version, position)
            JOIN scored USING (submission_id, version)
            ORDER BY e.position
        )
        SELECT submission_id, version FROM scored
        """,
        *(list(column) for column in scores),
        [v.received.model_dump_json() for v in rows],
        *(list(column) for column in events),
    )
    return {(r["submission_id"], r["version"]) for r in new}


async def save_score(
    conn: asyncpg.Connection, score: SubmissionScored, received_event_id: str
) -> bool:
    """Store a score version; False if that (submission, version, score version) exists."""
    inserted = await conn.fetchval(
        f"""
        {SCORE_INSERT}
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::text::jsonb, $12, $13)
        ON CONFLICT (submission_id, version, score_version) DO NOTHING
        RETURNING true
        """,
        *score_values(score, received_event_id),
    )
    return bool(inserted)


async def latest_result(
    conn: asyncpg.Connection, center_id: str, round_id: str
) -> PreviousResult | None:
    """The center's latest score in a round: its last submission version, last score version."""
    latest = (await latest_results(conn, [(center_id, round_id)])).get((center_id, round_id))
    return None if latest is None else latest.result


@dataclass(frozen=True)
class LatestResult:
    """A center's latest score in a round, with the version and score version it is of."""

    version: int
    score_version: int
    result: PreviousResult


async def latest_results(
    conn: asyncpg.Connection, pairs: Collection[tuple[str, str]]
) -> dict[tuple[str, str], LatestResult]:
    """The latest score of each (center, round) pair that has one, in one statement."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (s.center_id, s.round_id) s.center_id, s.round_id, s.version,
               s.score_version, s.verdict, s.satisfaction_percent, s.checklist_percent
        FROM scores s
        JOIN unnest($1::text[], $2::text[]) AS wanted (center_id, round_id)
            USING (center_id, round_id)
        ORDER BY s.center_id, s.round_id, s.version DESC, s.score_version DESC
        """,
        [center for center, _ in pairs],
        [round_id for _, round_id in pairs],
    )
    return {
        (r["center_id"], r["round_id"]): LatestResult(
            r["version"],
            r["score_version"],
            PreviousResult(
                round_id=r["round_id"],
                verdict=r["verdict"],
                satisfaction_percent=float(r["satisfaction_percent"]),
                checklist_percent=float(r["checklist_percent"]),
            ),
        )
        for r in rows
    }


async def latest_of_round(conn: asyncpg.Connection, round_id: str) -> list[dict[str, Any]]:
    """Each center's latest submission version in a round, with its latest score."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (r.center_id) r.received::text AS received,
               s.scorecard::text AS scorecard, s.score_version, s.received_event_id
        FROM received_submissions r
        JOIN LATERAL (SELECT * FROM scores WHERE scores.submission_id = r.submission_id
                      AND scores.version = r.version ORDER BY score_version DESC LIMIT 1) s ON true
        WHERE r.round_id = $1
        ORDER BY r.center_id, r.version DESC
        """,
        round_id,
    )
    return [dict(r) for r in rows]
