"""Sessions looked up in the last few seconds, kept in memory: a person's next request (the
form, the review, sending) comes within that time and needs no query."""

from datetime import datetime

import asyncpg

from services.portal.adapters import repository
from services.portal.adapters.recent import Recent
from services.portal.adapters.repository import Session


class RecentSessions:
    """Sign-out in this process forgets a session at once; in another portal process within
    ``seconds``. Intake revokes the session's credential at once everywhere, so no page that
    reads or sends anything through intake works after sign-out."""

    def __init__(self, pool: asyncpg.Pool, seconds: float) -> None:
        self._pool = pool
        self._kept: Recent[bytes, Session] = Recent(seconds)

    async def find(self, cookie: str, now: datetime) -> Session | None:
        key = repository.digest(cookie)
        kept = self._kept.get(key)
        if kept is not None and kept.expires_at > now:
            return kept
        async with self._pool.acquire() as conn:
            found = await repository.session(conn, cookie, now)
        if found is None:
            self._kept.forget(key)
        else:
            self._kept.put(key, found)
        return found

    def forget(self, cookie: str) -> None:
        self._kept.forget(repository.digest(cookie))
