"""Revoked credentials heard at once: each intake process listens on its own connection for
the database's ``gecc_credentials_revoked`` notifications (migration 007) and drops the
credential from its cache. While the connection is down the cache is not trusted at all."""

import asyncio
import contextlib

import asyncpg

from services.intake.domain.principals import PrincipalCache

CHANNEL = "gecc_credentials_revoked"


async def follow_revocations(dsn: str, cache: PrincipalCache, heartbeat: float = 5.0) -> None:
    """Runs until the connection is lost (then raises, to be started again)."""
    conn = await asyncpg.connect(dsn)
    lost = asyncio.Event()
    conn.add_termination_listener(lambda _: lost.set())

    def revoked(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        cache.forget(bytes.fromhex(payload))

    try:
        await conn.add_listener(CHANNEL, revoked)
        cache.trust()
        while not lost.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(heartbeat):
                    await lost.wait()
            if not lost.is_set():
                async with asyncio.timeout(heartbeat):
                    await conn.execute("SELECT 1")  # a silent network fails here
        raise ConnectionError("the database connection that hears revocations was lost")
    finally:
        cache.distrust()
        conn.terminate()
