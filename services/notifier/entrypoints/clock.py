"""The round clock: wakes for the next moment of any round (by the shared, possibly
accelerated clock) and fires what is due. Several notifier processes may run it: the ledger
makes each moment happen once."""

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from services.notifier import handlers
from services.notifier.adapters import repository
from services.notifier.domain.schedule import plan
from services.notifier.metrics import NotifierMetrics
from shared.clock import Clock, seconds_to_wait
from shared.database import DATABASE_UNAVAILABLE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RoundClockSettings:
    """Days before the due date that remind, who the operators are, how often to look."""

    reminder_days: tuple[int, ...] = (14, 7, 1)
    operator_emails: tuple[str, ...] = ()
    poll_seconds: float = 1.0


class RoundClock:
    def __init__(
        self,
        pool: asyncpg.Pool,
        clock: Clock,
        metrics: NotifierMetrics,
        settings: RoundClockSettings,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._offsets = settings.reminder_days
        self._operators = settings.operator_emails
        self._metrics = metrics
        self._poll = settings.poll_seconds

    async def run(self) -> None:
        """Until cancelled; a missed moment is caught up on start (see schedule.plan)."""
        while True:
            try:
                wait = await self.tick()
            except DATABASE_UNAVAILABLE as error:
                log.warning("round clock: database unavailable (%s); trying again", error)
                wait = self._poll
            await asyncio.sleep(wait)

    async def tick(self) -> float:
        """Fire what is due now; return the real seconds to sleep (at most the poll interval,
        so changed round dates are seen soon)."""
        async with self._pool.acquire() as conn:
            rounds = await repository.rounds(conn)
            for known in rounds:
                self._metrics.round_due.labels(known.id).set(known.due_at.timestamp())
            done = await repository.clock_done(conn)
            now = self._clock.now()
            todo = plan(rounds, now, self._offsets, done)
            for moment in todo.superseded:
                await handlers.skip(conn, moment, self._metrics)
            for moment in todo.due:
                await handlers.act_on(conn, moment, now, self._operators, self._metrics)
        if todo.next is None:
            return self._poll
        return seconds_to_wait(self._clock, todo.next.at, at_most=self._poll)
