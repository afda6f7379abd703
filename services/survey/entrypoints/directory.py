"""The survey's directory of centers and rounds: kept in its schema from the registry's and
the calendar's events (each event once: the consumer's inbox), and copied into memory for
the public page, read again every few seconds off the hot path."""

import asyncio

import asyncpg

from services.survey.adapters import directory
from services.survey.handlers.responses import Desk
from services.survey.metrics import SurveyMetrics
from shared.events import CenterRegistered, Envelope, RoundScheduled
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic


async def keep_center(conn: asyncpg.Connection, event: Envelope[CenterRegistered]) -> None:
    """Keep the center's Thai name (the page's heading and the poster's)."""
    await directory.record_center(conn, event.data)


async def keep_round(conn: asyncpg.Connection, event: Envelope[RoundScheduled]) -> None:
    """Keep the round's period (a day's responses count for the rounds containing it)."""
    await directory.record_round(conn, event.data)


async def refresh(runtime: ServiceRuntime, desk: Desk, metrics: SurveyMetrics) -> None:
    async with runtime.pool.acquire() as conn:
        desk.directory = await directory.load(conn)
    metrics.directory_centers.set(len(desk.directory.centers))


def register(
    runtime: ServiceRuntime, desk: Desk, metrics: SurveyMetrics, refresh_seconds: float
) -> None:
    runtime.subscribe(Topic.CENTER_REGISTERED, Envelope[CenterRegistered], keep_center)
    runtime.subscribe(Topic.ROUND_SCHEDULED, Envelope[RoundScheduled], keep_round)

    async def first_copy(runtime: ServiceRuntime) -> None:
        await refresh(runtime, desk, metrics)

    async def keep_copy(runtime: ServiceRuntime) -> None:
        while True:
            await asyncio.sleep(refresh_seconds)
            await refresh(runtime, desk, metrics)

    runtime.on_start(first_copy)
    runtime.in_background("directory-copy", keep_copy)
