"""The demo's people acting at their moments of the round, on the services' clock."""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from shared.clock import Clock, seconds_to_wait

Item = TypeVar("Item")


async def until(clock: Clock, moment: datetime) -> None:
    await asyncio.sleep(seconds_to_wait(clock, moment))


async def at_their_moments(
    clock: Clock,
    start: datetime,
    items: Sequence[Item],
    moment_of: Callable[[Item], timedelta],
    act: Callable[[Item], Awaitable[None]],
    concurrency: int,
) -> None:
    """``act`` on each item at ``start + moment_of(item)`` (the items in that order), at most
    ``concurrency`` at once; return when every one is done."""
    limit = asyncio.Semaphore(concurrency)

    async def one(item: Item) -> None:
        async with limit:
            await act(item)

    tasks = []
    for item in items:
        await until(clock, start + moment_of(item))
        tasks.append(asyncio.create_task(one(item)))
    await asyncio.gather(*tasks)
