"""All of the tallier's SQL: additions to the tallies, their events, and reading a tally."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.survey.domain.tallies import RATINGS, Addition, Tally, TallyKey
from shared.messaging.outbox import OUTBOX_INSERT
from shared.topics import Topic


class StandardChanged(Exception):
    """A tally exists for another standard than the responses added to it name."""

    def __init__(self, keys: Sequence[TallyKey]) -> None:
        super().__init__(
            "a tally of another standard exists for "
            + ", ".join(f"{k.center_id} in {k.round_id}" for k in keys)
        )


# Rows are written in key order, so two talliers adding to the same tallies take their locks
# in the same order and never deadlock.
ADD = """
    INSERT INTO tallies AS t (center_id, round_id, standard, questions, counts, responses,
        revision, last_response_at, tallied_at)
    SELECT center_id, round_id, standard, questions::text[], counts::int[], responses, 1,
        last_response_at, $8
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[],
                $7::timestamptz[])
        AS a (center_id, round_id, standard, questions, counts, responses, last_response_at)
    ORDER BY center_id, round_id
    ON CONFLICT (center_id, round_id) DO UPDATE SET
        counts = ARRAY(SELECT old + new FROM unnest(t.counts, excluded.counts) AS c (old, new)),
        responses = t.responses + excluded.responses,
        revision = t.revision + 1,
        last_response_at = greatest(t.last_response_at, excluded.last_response_at),
        tallied_at = excluded.tallied_at
    WHERE t.standard = excluded.standard AND t.questions = excluded.questions
    RETURNING center_id, round_id, standard, counts, responses, revision, last_response_at,
        tallied_at
"""

PUBLISH = f"""
    {OUTBOX_INSERT}
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])
"""


async def add(
    conn: asyncpg.Connection,
    additions: Mapping[TallyKey, Addition],
    questions: Mapping[str, Sequence[str]],
    tallied_at: datetime,
) -> list[Tally]:
    """Add ``additions`` to the tallies (created at their first response); ``questions``: each
    standard's question codes in order. Returns the changed tallies as they now are, in key
    order. Raises ``StandardChanged`` (having written part of it: roll back) when a tally
    exists for another standard."""
    literals = {standard: _array(codes) for standard, codes in questions.items()}
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [], [])
    for key in sorted(additions):
        addition = additions[key]
        for column, value in zip(
            columns,
            (
                key.center_id,
                key.round_id,
                addition.standard,
                literals[addition.standard],
                _array(_flat(addition, questions[addition.standard])),
                addition.responses,
                addition.last_response_at,
            ),
            strict=True,
        ):
            column.append(value)
    changed = await conn.fetch(ADD, *columns, tallied_at)
    if len(changed) < len(additions):
        done = {TallyKey(r["center_id"], r["round_id"]) for r in changed}
        raise StandardChanged([k for k in sorted(additions) if k not in done])
    tallies = [_tally(row, questions[row["standard"]]) for row in changed]
    return sorted(tallies, key=lambda tally: tally.key)


async def publish(conn: asyncpg.Connection, events: Sequence[tuple[UUID, str, bytes]]) -> None:
    """Put ``SurveyTally`` events (event id, key, JSON) in the outbox, in this order."""
    await conn.execute(
        PUBLISH,
        [event_id for event_id, _, _ in events],
        [Topic.SURVEY_TALLY.value] * len(events),
        [key for _, key, _ in events],
        [payload for _, _, payload in events],
    )


async def read(conn: asyncpg.Connection, key: TallyKey) -> Tally | None:
    row = await conn.fetchrow(
        "SELECT * FROM tallies WHERE center_id = $1 AND round_id = $2",
        *key,
    )
    return None if row is None else _tally(row, row["questions"])


def _tally(row: asyncpg.Record, questions: Sequence[str]) -> Tally:
    counts: list[int] = row["counts"]
    size = len(RATINGS)
    return Tally(
        key=TallyKey(row["center_id"], row["round_id"]),
        standard=row["standard"],
        responses=row["responses"],
        counts={code: counts[size * i : size * (i + 1)] for i, code in enumerate(questions)},
        revision=row["revision"],
        last_response_at=row["last_response_at"],
        tallied_at=row["tallied_at"],
    )


def _flat(addition: Addition, questions: Sequence[str]) -> list[int]:
    none = [0] * len(RATINGS)
    return [n for code in questions for n in addition.counts.get(code, none)]


def _array(values: Sequence[object]) -> str:
    """A PostgreSQL array literal of codes or numbers (neither holds a comma, brace or quote)."""
    return "{" + ",".join(map(str, values)) + "}"
