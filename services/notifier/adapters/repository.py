"""All of the notifier's SQL: its copies of rounds, centers and submissions, the round
clock's ledger and the delivery ledger."""

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.notifier.domain.messages import ONE_TIME, Message
from services.notifier.domain.notices import Address, CenterState, Outgoing
from services.notifier.domain.rendering import Kind
from services.notifier.domain.schedule import Moment, MomentKey, RoundSnapshot
from shared.events import CenterRegistered, RoundScheduled, SubmissionReceived, SubmissionScored


async def record_round(conn: asyncpg.Connection, scheduled: RoundScheduled) -> None:
    await conn.execute(
        """
        INSERT INTO rounds (id, opens_at, due_at, closes_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO UPDATE SET opens_at = excluded.opens_at,
            due_at = excluded.due_at, closes_at = excluded.closes_at, updated_at = now()
        """,
        scheduled.round_id,
        scheduled.opens_at,
        scheduled.due_at,
        scheduled.closes_at,
    )


async def record_center(conn: asyncpg.Connection, center: CenterRegistered) -> None:
    await conn.execute(
        """
        INSERT INTO centers (id, name_th, name_en, office_path, contact_emails)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (id) DO UPDATE SET name_th = excluded.name_th, name_en = excluded.name_en,
            office_path = excluded.office_path, contact_emails = excluded.contact_emails,
            updated_at = now()
        """,
        center.center_id,
        center.name_th,
        center.name_en,
        center.office_path,
        center.contact_emails,
    )


RECORD_SUBMISSION = """
    INSERT INTO round_submissions (round_id, center_id, first_received_at, latest_version, late)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (round_id, center_id) DO UPDATE SET
        first_received_at =
            least(round_submissions.first_received_at, excluded.first_received_at),
        latest_version = greatest(round_submissions.latest_version, excluded.latest_version),
        late = CASE WHEN excluded.latest_version > round_submissions.latest_version
                    THEN excluded.late ELSE round_submissions.late END
"""


def _submission_values(received: SubmissionReceived) -> tuple[Any, ...]:
    return (
        received.round_id,
        received.center_id,
        received.received_at,
        received.version,
        received.late,
    )


async def record_submission_and_read(
    conn: asyncpg.Connection, received: SubmissionReceived
) -> tuple[CenterState | None, RoundSnapshot | None]:
    """Remember the center's submission; with the center and round its receipt needs, read
    in the same round trip (a round's burst brings 1,343 of these within seconds)."""
    row = await conn.fetchrow(
        f"""
        WITH noted AS ({RECORD_SUBMISSION})
        SELECT {CENTER_ALONE},
               r.id AS round_id, r.opens_at, r.due_at, r.closes_at
        FROM (SELECT 1) AS one
        LEFT JOIN centers c ON c.id = $2
        LEFT JOIN rounds r ON r.id = $1
        """,
        *_submission_values(received),
    )
    assert row is not None
    center_ = None if row["id"] is None else _center_state(row)
    round_ = (
        None
        if row["round_id"] is None
        else RoundSnapshot(row["round_id"], row["opens_at"], row["due_at"], row["closes_at"])
    )
    return center_, round_


RECORD_RESULT = """
    INSERT INTO submission_results
        (submission_id, version, center_id, round_id, verdict, scored_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (submission_id, version) DO NOTHING
"""


def _result_values(scored: SubmissionScored) -> tuple[Any, ...]:
    return (
        scored.submission_id,
        scored.version,
        scored.center_id,
        scored.round_id,
        scored.verdict,
        scored.scored_at,
    )


async def record_result_and_read(
    conn: asyncpg.Connection, scored: SubmissionScored
) -> tuple[bool, CenterState | None]:
    """Remember the version's verdict: True when it is its first result (a re-score changes
    nothing here); with the center its notice goes to, read in the same round trip."""
    row = await conn.fetchrow(
        f"""
        WITH recorded AS ({RECORD_RESULT} RETURNING true AS first)
        SELECT EXISTS (SELECT FROM recorded) AS first,
               {CENTER_ALONE}
        FROM (SELECT 1) AS one LEFT JOIN centers c ON c.id = $3
        """,
        *_result_values(scored),
    )
    assert row is not None
    return bool(row["first"]), None if row["id"] is None else _center_state(row)


def _snapshot(row: asyncpg.Record) -> RoundSnapshot:
    return RoundSnapshot(row["id"], row["opens_at"], row["due_at"], row["closes_at"])


async def rounds(conn: asyncpg.Connection) -> list[RoundSnapshot]:
    rows = await conn.fetch("SELECT id, opens_at, due_at, closes_at FROM rounds ORDER BY id")
    return [_snapshot(r) for r in rows]


async def get_round(conn: asyncpg.Connection, round_id: str) -> RoundSnapshot | None:
    row = await conn.fetchrow(
        "SELECT id, opens_at, due_at, closes_at FROM rounds WHERE id = $1", round_id
    )
    return None if row is None else _snapshot(row)


async def clock_done(conn: asyncpg.Connection) -> set[MomentKey]:
    rows = await conn.fetch("SELECT round_id, tick, days_before FROM clock_ledger")
    return {(r["round_id"], r["tick"], r["days_before"]) for r in rows}


async def claim_moment(conn: asyncpg.Connection, moment: Moment, outcome: str) -> bool:
    """Record the moment in the ledger; False if it was recorded before (by any process:
    a racing insert waits for the other transaction and then does nothing)."""
    status = await conn.execute(
        "INSERT INTO clock_ledger (round_id, tick, days_before, moment, outcome)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        moment.round_id,
        moment.tick.value,
        moment.days_before,
        moment.at,
        outcome,
    )
    return bool(status == "INSERT 0 1")


CENTER_ADDRESSES = """
    array(SELECT 'email:' || e FROM unnest(c.contact_emails) AS e)
    || array(SELECT r.channel || ':' || r.address FROM recipients r
             WHERE r.owner = 'center:' || c.id ORDER BY r.channel, r.address)
"""
# A center (``c``) as ``_center_state`` reads it, outside any round.
CENTER_ALONE = f"""
    c.id, c.name_th, c.name_en, c.office_path, {CENTER_ADDRESSES} AS addresses,
    false AS submitted, false AS late, NULL::text AS verdict
"""


def _addresses(tagged: Sequence[str]) -> tuple[Address, ...]:
    found = []
    for entry in tagged:
        channel, _, address = entry.partition(":")
        found.append(Address("webhook" if channel == "webhook" else "email", address))
    return tuple(found)


def _center_state(row: asyncpg.Record) -> CenterState:
    return CenterState(
        id=row["id"],
        name_th=row["name_th"],
        name_en=row["name_en"],
        office_path=row["office_path"],
        addresses=_addresses(row["addresses"]),
        submitted=row["submitted"],
        late=row["late"],
        verdict=row["verdict"],
    )


async def round_centers(conn: asyncpg.Connection, round_id: str) -> list[CenterState]:
    """Every registered center with whether it submitted for the round, whether late, and
    the verdict of its latest scored version."""
    rows = await conn.fetch(
        f"""
        SELECT c.id, c.name_th, c.name_en, c.office_path, {CENTER_ADDRESSES} AS addresses,
               s.center_id IS NOT NULL AS submitted, coalesce(s.late, false) AS late,
               latest.verdict
        FROM centers c
        LEFT JOIN round_submissions s ON s.round_id = $1 AND s.center_id = c.id
        LEFT JOIN LATERAL (SELECT verdict FROM submission_results r
                           WHERE r.round_id = $1 AND r.center_id = c.id
                           ORDER BY r.version DESC LIMIT 1) latest ON true
        ORDER BY c.id
        """,
        round_id,
    )
    return [_center_state(r) for r in rows]


async def center(conn: asyncpg.Connection, center_id: str) -> CenterState | None:
    row = await conn.fetchrow(
        f"""
        SELECT {CENTER_ALONE}
        FROM centers c WHERE c.id = $1
        """,
        center_id,
    )
    return None if row is None else _center_state(row)


async def office_addresses(conn: asyncpg.Connection) -> dict[str, list[Address]]:
    rows = await conn.fetch(
        "SELECT substr(owner, 8) AS office_path, channel, address FROM recipients"
        " WHERE owner LIKE 'office:%' ORDER BY owner, channel, address"
    )
    found: dict[str, list[Address]] = defaultdict(list)
    for r in rows:
        found[r["office_path"]].append(Address(r["channel"], r["address"]))
    return dict(found)


async def operator_addresses(conn: asyncpg.Connection) -> list[Address]:
    rows = await conn.fetch(
        "SELECT channel, address FROM recipients WHERE owner = 'operators'"
        " ORDER BY channel, address"
    )
    return [Address(r["channel"], r["address"]) for r in rows]


async def add_deliveries(conn: asyncpg.Connection, outgoing: Sequence[Outgoing]) -> set[str]:
    """Queue messages; one already queued for the same (channel, recipient, round, kind,
    sequence), or for the same sign-in request, is left alone. Returns the delivery ids of
    those new in the ledger."""
    if not outgoing:
        return set()
    rows = await conn.fetch(
        """
        INSERT INTO deliveries (delivery_id, channel, recipient, round_id, kind, sequence,
            subject, body, data, submission_id, version, priority, request_id, expires_at)
        SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],
            $6::int[], $7::text[], $8::text[], $9::text[]::jsonb[], $10::uuid[], $11::int[],
            $12::smallint[], $13::uuid[], $14::timestamptz[])
        ON CONFLICT DO NOTHING RETURNING delivery_id
        """,
        *zip(*(_row(o) for o in outgoing), strict=True),
    )
    return {str(r["delivery_id"]) for r in rows}


def _row(outgoing: Outgoing) -> tuple[Any, ...]:
    m = outgoing.message
    return (
        UUID(m.delivery_id),
        outgoing.channel,
        m.recipient,
        m.round_id,
        m.kind.value,
        m.sequence,
        m.subject,
        m.body,
        json.dumps(dict(m.data), ensure_ascii=False, default=str),
        m.submission_id,
        m.version,
        m.priority,
        m.request_id,
        m.expires_at,
    )


@dataclass(frozen=True)
class Delivery:
    id: int
    channel: str
    message: Message
    attempts: int
    secret: str | None


async def claim_deliveries(pool: asyncpg.Pool, limit: int, lease_seconds: float) -> list[Delivery]:
    """Pending deliveries that are due, by priority (``Message.priority``) and then oldest
    first, leased to this process for ``lease_seconds``: two senders never take the same
    one, and one that died holding it loses it at lease end."""
    rows = await pool.fetch(
        """
        UPDATE deliveries d SET leased_until = now() + make_interval(secs => $2)
        WHERE d.id IN (
            SELECT id FROM deliveries
            WHERE status = 'pending' AND next_attempt_at <= now()
              AND (leased_until IS NULL OR leased_until < now())
            ORDER BY priority, next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING d.id, d.priority, d.channel, d.recipient, d.round_id, d.kind, d.sequence,
            d.subject, d.body, d.data, d.submission_id, d.version, d.request_id, d.expires_at,
            d.attempts,
            (SELECT secret FROM recipients r WHERE r.channel = d.channel
                AND r.address = d.recipient LIMIT 1) AS secret
        """,
        limit,
        lease_seconds,
    )
    return [
        Delivery(
            id=r["id"],
            channel=r["channel"],
            message=Message(
                kind=Kind(r["kind"]),
                recipient=r["recipient"],
                subject=r["subject"],
                body=r["body"],
                round_id=r["round_id"],
                sequence=r["sequence"],
                submission_id=r["submission_id"],
                version=r["version"],
                request_id=r["request_id"],
                expires_at=r["expires_at"],
                data=r["data"],
            ),
            attempts=r["attempts"],
            secret=r["secret"],
        )
        for r in sorted(rows, key=lambda r: (r["priority"], r["id"]))
    ]


# A sent or dead message whose body held a one-time credential (``messages.ONE_TIME``) keeps
# this instead: nothing left in the ledger opens a session once the message has gone.
FORGOTTEN_BODY = "(removed once sent or given up on: it held a one-time link)"
ONE_TIME_KINDS = sorted(kind.value for kind in ONE_TIME)


async def mark_sent(pool: asyncpg.Pool, delivery_ids: Sequence[int]) -> None:
    if delivery_ids:
        await pool.execute(
            "UPDATE deliveries SET status = 'sent', sent_at = now(), attempts = attempts + 1,"
            " leased_until = NULL, last_error = NULL,"
            " body = CASE WHEN kind = ANY($2::text[]) THEN $3 ELSE body END"
            " WHERE id = ANY($1::bigint[])",
            list(delivery_ids),
            ONE_TIME_KINDS,
            FORGOTTEN_BODY,
        )


async def mark_retry(pool: asyncpg.Pool, delivery_id: int, at: datetime, error: str) -> None:
    await pool.execute(
        "UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $2,"
        " leased_until = NULL, last_error = $3 WHERE id = $1",
        delivery_id,
        at,
        error,
    )


async def mark_dead(pool: asyncpg.Pool, delivery_id: int, error: str) -> None:
    await pool.execute(
        "UPDATE deliveries SET status = 'dead', attempts = attempts + 1, leased_until = NULL,"
        " last_error = $2, body = CASE WHEN kind = ANY($3::text[]) THEN $4 ELSE body END"
        " WHERE id = $1",
        delivery_id,
        error,
        ONE_TIME_KINDS,
        FORGOTTEN_BODY,
    )


LEDGER_STATUSES = ("pending", "sent", "dead")


async def delivery_counts(pool: asyncpg.Pool) -> dict[tuple[str, str], int]:
    """Deliveries by (kind, status); a pair with none is missing."""
    rows = await pool.fetch(
        "SELECT kind, status, count(*) AS n FROM deliveries GROUP BY kind, status"
    )
    return {(r["kind"], r["status"]): r["n"] for r in rows}


async def hold_notice(
    conn: asyncpg.Connection, kind: str, center_id: str, round_id: str, event: str
) -> None:
    await conn.execute(
        "INSERT INTO held_notices (center_id, round_id, kind, event)"
        " VALUES ($1, $2, $3, $4::text::jsonb)",
        center_id,
        round_id,
        kind,
        event,
    )


async def take_held_notices(
    conn: asyncpg.Connection, center_id: str | None = None, round_id: str | None = None
) -> list[tuple[str, str]]:
    """Remove and return (kind, event JSON) of the notices held for the center or round."""
    rows = await conn.fetch(
        "DELETE FROM held_notices WHERE center_id = $1 OR round_id = $2"
        " RETURNING id, kind, event::text AS event",
        center_id,
        round_id,
    )
    return [(r["kind"], r["event"]) for r in sorted(rows, key=lambda r: r["id"])]


async def take_ready_notices(conn: asyncpg.Connection, limit: int = 1000) -> list[tuple[str, str]]:
    """Remove and return the held notices whose center and round are known by now."""
    rows = await conn.fetch(
        """
        DELETE FROM held_notices WHERE id IN (
            SELECT h.id FROM held_notices h
            WHERE EXISTS (SELECT FROM centers c WHERE c.id = h.center_id)
              AND EXISTS (SELECT FROM rounds r WHERE r.id = h.round_id)
            ORDER BY h.id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, event::text AS event
        """,
        limit,
    )
    return [(r["kind"], r["event"]) for r in sorted(rows, key=lambda r: r["id"])]
