"""Sessions looked up in the last few seconds, kept in memory: a person's next request (the
form, the review, sending) comes within that time and needs no query."""

import time
from datetime import datetime

import asyncpg

from services.portal.adapters import repository
from services.portal.adapters.repository import Session

MAX_KEPT = 10_000


class RecentSessions:
    """Sign-out in this process forgets a session at once; in another portal process within
    ``seconds``. Intake revokes the session's credential at once everywhere, so no page that
    reads or sends anything through intake works after sign-out."""

    def __init__(self, pool: asyncpg.Pool, seconds: float) -> None:
        self._pool = pool
        self._seconds = seconds
        self._kept: dict[bytes, tuple[Session, float]] = {}

    async def find(self, cookie: str, now: datetime) -> Session | None:
        key = repository.digest(cookie)
        kept = self._kept.get(key)
        moment = time.monotonic()
        if kept is not None and moment - kept[1] < self._seconds and kept[0].expires_at > now:
            return kept[0]
        async with self._pool.acquire() as conn:
            found = await repository.session(conn, cookie, now)
        self._kept.pop(key, None)
        if found is not None:
            if len(self._kept) >= MAX_KEPT:
                self._kept.pop(next(iter(self._kept)))  # the oldest
            self._kept[key] = (found, moment)
        return found

    def forget(self, cookie: str) -> None:
        self._kept.pop(repository.digest(cookie), None)
