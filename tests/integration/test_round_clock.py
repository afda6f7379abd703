"""The round clock against the real database: a moment missed while the notifier was down
fires on start (the latest one of the round; earlier ones are recorded as skipped), and two
clocks ticking at once fire each moment once."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from services.notifier import handlers
from services.notifier.entrypoints.clock import RoundClock, RoundClockSettings
from services.notifier.metrics import NotifierMetrics
from shared.clock import ManualClock
from shared.database import connect
from shared.events import CenterRegistered, RoundScheduled, new_event
from tests.support.isolation import Isolated

NOW = datetime(2027, 4, 29, 3, 0, tzinfo=UTC)


@pytest.fixture
async def pool(isolated: Isolated) -> AsyncIterator[asyncpg.Pool]:
    async with isolated.service_pool("notifier") as pool:
        yield pool


async def schedule(isolated: Isolated, due_at: datetime) -> None:
    conn = await connect(isolated.service_url("notifier"))
    metrics = NotifierMetrics(CollectorRegistry())
    try:
        round_ = RoundScheduled(
            round_id="FY2570-H1",
            kind="H1",
            fiscal_year=2570,
            period_start=date(2026, 10, 1),
            period_end=date(2027, 3, 31),
            opens_at=due_at - timedelta(days=60),
            due_at=due_at,
            closes_at=due_at + timedelta(days=14),
        )
        await handlers.note_round(conn, new_event(round_, "test"), metrics)
        center = CenterRegistered(
            center_id="GECC-0001",
            name_th="ศูนย์ราชการสะดวก ทดสอบ",
            office_path="PMO/MOI/DOPA",
            contact_emails=["gecc-0001@example.go.th"],
        )
        await handlers.note_center(conn, new_event(center, "test"), metrics)
    finally:
        await conn.close()


def clock_for(pool: asyncpg.Pool, now: datetime) -> RoundClock:
    metrics = NotifierMetrics(CollectorRegistry())
    return RoundClock(pool, ManualClock(now), metrics, RoundClockSettings())


async def ledger(pool: asyncpg.Pool) -> list[tuple[str, int, str]]:
    rows = await pool.fetch("SELECT tick, days_before, outcome FROM clock_ledger ORDER BY moment")
    return [(r["tick"], r["days_before"], r["outcome"]) for r in rows]


async def test_a_missed_moment_fires_on_start_and_older_ones_are_skipped(
    isolated: Isolated, pool: asyncpg.Pool
) -> None:
    # Down from before the 14-day reminder until 2 days before due: only the 7-day one fires.
    await schedule(isolated, NOW + timedelta(days=2))
    await clock_for(pool, NOW).tick()
    assert await ledger(pool) == [
        ("deadline_near", 14, "skipped"),
        ("deadline_near", 7, "fired"),
    ]
    reminders = await pool.fetch("SELECT recipient, sequence FROM deliveries")
    assert [(r["recipient"], r["sequence"]) for r in reminders] == [("gecc-0001@example.go.th", 7)]
    # Ticking again changes nothing; the next moment comes when it is due.
    await clock_for(pool, NOW + timedelta(hours=1)).tick()
    assert len(await ledger(pool)) == 2
    await clock_for(pool, NOW + timedelta(days=1, hours=1)).tick()
    assert (await ledger(pool))[-1] == ("deadline_near", 1, "fired")


async def test_two_clocks_at_once_fire_each_moment_once(
    isolated: Isolated, pool: asyncpg.Pool
) -> None:
    await schedule(isolated, NOW - timedelta(days=20))  # closed six days ago
    async with isolated.service_pool("notifier") as other:
        await asyncio.gather(*(clock_for(p, NOW).tick() for p in (pool, other, pool, other)))
    fired = [entry for entry in await ledger(pool) if entry[2] == "fired"]
    assert fired == [("round_closed", 0, "fired")]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1  # one RoundClosed event


async def test_the_clock_shows_each_rounds_due_time_as_it_knows_it(
    isolated: Isolated, pool: asyncpg.Pool
) -> None:
    registry = CollectorRegistry()
    clock = RoundClock(pool, ManualClock(NOW), NotifierMetrics(registry), RoundClockSettings())
    for due_at in (NOW + timedelta(days=20), NOW + timedelta(days=25, seconds=0.25)):
        await schedule(isolated, due_at)  # intake moved the due date
        await clock.tick()
        shown = registry.get_sample_value(
            "gecc_round_clock_due_timestamp_seconds", {"round": "FY2570-H1"}
        )
        assert shown == due_at.timestamp()
