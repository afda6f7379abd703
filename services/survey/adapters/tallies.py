"""All of the tallier's SQL: additions to the tallies with their events, and reading a tally."""

from collections.abc import Mapping, Sequence
from datetime import datetime

import asyncpg

from services.survey.domain.tallies import RATINGS, Addition, Tally, TallyKey
from shared.events import EventType, SurveyTally
from shared.messaging.outbox import OUTBOX_INSERT
from shared.topics import Topic


class StandardChanged(Exception):
    """A tally exists for another standard than the responses added to it name."""

    def __init__(self, keys: Sequence[TallyKey]) -> None:
        super().__init__(
            "a tally of another standard exists for "
            + ", ".join(f"{k.center_id} in {k.round_id}" for k in keys)
        )


# In one statement: each changed tally, and its SurveyTally event (the envelope and data of
# shared/events.py, built by jsonb_build_object) in the outbox, keyed center/round. Rows are
# written in key order, so two talliers adding to the same tallies take their locks in the
# same order and never deadlock.
ADD_AND_PUBLISH = f"""
    WITH added AS (
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
        RETURNING *
    ), published AS (
        {OUTBOX_INSERT}
        SELECT event_id, $9, center_id || '/' || round_id, convert_to(jsonb_build_object(
            'event_id', event_id, 'event_type', $10::text, 'occurred_at', tallied_at,
            'producer', $11::text, 'schema_version', $12::int, 'data', jsonb_build_object(
                'center_id', center_id, 'round_id', round_id, 'standard', standard,
                'responses', responses, 'revision', revision,
                'last_response_at', last_response_at, 'tallied_at', tallied_at,
                'counts', (SELECT jsonb_object_agg(code, counts[5 * i - 4:5 * i])
                           FROM unnest(questions) WITH ORDINALITY AS q (code, i))))::text, 'UTF8')
        FROM (SELECT *, gen_random_uuid() AS event_id FROM added ORDER BY center_id, round_id) e
    )
    SELECT center_id, round_id FROM added
"""


async def add_and_publish(
    conn: asyncpg.Connection,
    additions: Mapping[TallyKey, Addition],
    questions: Mapping[str, Sequence[str]],
    tallied_at: datetime,
    producer: str,
) -> int:
    """Add ``additions`` to the tallies (created at their first response) and put each changed
    tally's ``SurveyTally`` in the outbox; ``questions``: each standard's question codes in
    order. Returns the tallies changed. Raises ``StandardChanged`` (having written part of it:
    roll back) when a tally exists for another standard."""
    keys = sorted(additions)
    changed = await conn.fetch(
        ADD_AND_PUBLISH,
        [k.center_id for k in keys],
        [k.round_id for k in keys],
        [additions[k].standard for k in keys],
        [_array(questions[additions[k].standard]) for k in keys],
        [_array(_flat(additions[k], questions[additions[k].standard])) for k in keys],
        [additions[k].responses for k in keys],
        [additions[k].last_response_at for k in keys],
        tallied_at,
        Topic.SURVEY_TALLY.value,
        EventType.SURVEY_TALLY.value,
        producer,
        SurveyTally.schema_version,
    )
    if len(changed) < len(keys):
        done = {TallyKey(r["center_id"], r["round_id"]) for r in changed}
        raise StandardChanged([k for k in keys if k not in done])
    return len(changed)


async def read(conn: asyncpg.Connection, key: TallyKey) -> Tally | None:
    row = await conn.fetchrow(
        "SELECT standard, questions, counts, responses, revision, last_response_at, tallied_at"
        " FROM tallies WHERE center_id = $1 AND round_id = $2",
        *key,
    )
    if row is None:
        return None
    counts: list[int] = row["counts"]
    size = len(RATINGS)
    return Tally(
        key=key,
        standard=row["standard"],
        responses=row["responses"],
        counts={code: counts[size * i : size * (i + 1)] for i, code in enumerate(row["questions"])},
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
