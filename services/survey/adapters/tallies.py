"""All of the tallier's SQL: additions to the tallies, their events, and reading a tally."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.survey.domain.tallies import Addition, Tally, TallyKey
from shared.messaging.outbox import OUTBOX_INSERT


class StandardChanged(Exception):
    """A tally exists for another standard than the responses added to it name."""

    def __init__(self, keys: Sequence[TallyKey]) -> None:
        super().__init__(
            "a tally of another standard exists for "
            + ", ".join(f"{k.center_id} in {k.round_id}" for k in keys)
        )


# Rows are written in key order, so two talliers adding to the same tallies take their locks
# in the same order and never deadlock.
ADD_TOTALS = """
    INSERT INTO tally_totals AS t (center_id, round_id, standard, responses, revision,
        last_response_at, tallied_at)
    SELECT center_id, round_id, standard, responses, 1, last_response_at, $6
    FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::timestamptz[])
        AS a (center_id, round_id, standard, responses, last_response_at)
    ORDER BY center_id, round_id
    ON CONFLICT (center_id, round_id) DO UPDATE SET
        responses = t.responses + excluded.responses,
        revision = t.revision + 1,
        last_response_at = greatest(t.last_response_at, excluded.last_response_at),
        tallied_at = excluded.tallied_at
    WHERE t.standard = excluded.standard
    RETURNING center_id, round_id, standard, responses, revision, last_response_at, tallied_at
"""

# The questions' counts after the addition, every question of the changed tallies: those
# added to as the insert returns them, the others as they were.
ADD_COUNTS = """
    WITH added AS (
        INSERT INTO tallies AS t (center_id, round_id, question_code, counts)
        SELECT center_id, round_id, question_code, counts::int[]
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
            AS a (center_id, round_id, question_code, counts)
        ORDER BY center_id, round_id, question_code
        ON CONFLICT (center_id, round_id, question_code) DO UPDATE SET
            counts = ARRAY(SELECT old + new FROM unnest(t.counts, excluded.counts) AS c (old, new))
        RETURNING center_id, round_id, question_code, counts
    )
    SELECT * FROM added
    UNION ALL
    SELECT t.center_id, t.round_id, t.question_code, t.counts
    FROM tallies t
    JOIN unnest($5::text[], $6::text[]) AS k (center_id, round_id) USING (center_id, round_id)
    WHERE NOT EXISTS (
        SELECT FROM added a WHERE (a.center_id, a.round_id, a.question_code)
            = (t.center_id, t.round_id, t.question_code))
"""


async def add(
    conn: asyncpg.Connection, additions: Mapping[TallyKey, Addition], tallied_at: datetime
) -> list[Tally]:
    """Add ``additions`` to the tallies (created at their first response); return the changed
    tallies as they now are, in key order. Raises ``StandardChanged`` (having written part of
    it: roll back) when a tally exists for another standard."""
    keys = sorted(additions)
    totals = await conn.fetch(
        ADD_TOTALS,
        [k.center_id for k in keys],
        [k.round_id for k in keys],
        [additions[k].standard for k in keys],
        [additions[k].responses for k in keys],
        [additions[k].last_response_at for k in keys],
        tallied_at,
    )
    if len(totals) < len(keys):
        done = {TallyKey(r["center_id"], r["round_id"]) for r in totals}
        raise StandardChanged([k for k in keys if k not in done])
    rows = [(key, code, counts) for key in keys for code, counts in additions[key].counts.items()]
    counts: dict[TallyKey, dict[str, list[int]]] = {key: {} for key in keys}
    for row in await conn.fetch(
        ADD_COUNTS,
        [key.center_id for key, _, _ in rows],
        [key.round_id for key, _, _ in rows],
        [code for _, code, _ in rows],
        ["{" + ",".join(map(str, n)) + "}" for _, _, n in rows],
        [k.center_id for k in keys],
        [k.round_id for k in keys],
    ):
        counts[TallyKey(row["center_id"], row["round_id"])][row["question_code"]] = row["counts"]
    tallies = [_tally(row, counts[TallyKey(row["center_id"], row["round_id"])]) for row in totals]
    return sorted(tallies, key=lambda tally: tally.key)


async def publish(conn: asyncpg.Connection, events: Sequence[tuple[Any, str, str, bytes]]) -> None:
    """Put the events (``outbox_values`` rows) in the outbox, in this order, in one statement."""
    if not events:
        return
    ids, topics, keys, payloads = (list(column) for column in zip(*events, strict=True))
    await conn.execute(
        f"{OUTBOX_INSERT} SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bytea[])",
        ids,
        topics,
        keys,
        payloads,
    )


async def read(conn: asyncpg.Connection, key: TallyKey) -> Tally | None:
    total = await conn.fetchrow(
        "SELECT center_id, round_id, standard, responses, revision, last_response_at,"
        " tallied_at FROM tally_totals WHERE center_id = $1 AND round_id = $2",
        *key,
    )
    if total is None:
        return None
    rows = await conn.fetch(
        "SELECT question_code, counts FROM tallies WHERE center_id = $1 AND round_id = $2",
        *key,
    )
    return _tally(total, {r["question_code"]: r["counts"] for r in rows})


def _tally(total: asyncpg.Record, counts: dict[str, list[int]]) -> Tally:
    return Tally(
        key=TallyKey(total["center_id"], total["round_id"]),
        standard=total["standard"],
        responses=total["responses"],
        counts=counts,
        revision=total["revision"],
        last_response_at=total["last_response_at"],
        tallied_at=total["tallied_at"],
    )
