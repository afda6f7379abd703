"""Rounds and their extensions as the acceptance rules need them, cached for a few seconds.

A stale entry never makes a wrong acceptance: the writer's statement checks that the
database still holds exactly the dates and the extension a version was accepted against
(``versions.store``), and the caller reads them again when it does not."""

import time
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.intake.adapters import repository
from services.intake.domain.rounds import Round


@dataclass(frozen=True)
class RoundTerms:
    """A round and the extensions granted in it, as read at ``read_at`` (monotonic)."""

    round: Round
    extensions: dict[str, datetime]
    read_at: float

    def extension_until(self, center_id: str) -> datetime | None:
        return self.extensions.get(center_id)


class RoundBook:
    def __init__(self, ttl: float = 5.0) -> None:
        self._ttl = ttl
        self._terms: dict[str, RoundTerms] = {}

    async def terms(
        self, pool: asyncpg.Pool, round_id: str, fresh: bool = False
    ) -> RoundTerms | None:
        """The round's terms from the cache, or read now when ``fresh`` or older than ttl."""
        cached = self._terms.get(round_id)
        if not fresh and cached is not None and time.monotonic() - cached.read_at < self._ttl:
            return cached
        async with pool.acquire() as conn:
            round_ = await repository.get_round(conn, round_id)
            extensions = await repository.extensions_until(conn, round_id) if round_ else {}
        if round_ is None:
            self._terms.pop(round_id, None)
            return None
        terms = RoundTerms(round_, extensions, time.monotonic())
        self._terms[round_id] = terms
        return terms
