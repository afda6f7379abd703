"""The outbox relay on a thread of its own, with its own event loop and connections.

In the service's event loop the relay waits its turn behind every request being answered:
under a burst (bench/round.py) an event sat 290 ms (p50) to 650 ms (p99) in the outbox.
On its own thread the interpreter hands it the CPU every few milliseconds whatever the
request load, so publishing keeps pace.
"""

import asyncio
import contextlib
import threading
from collections.abc import Callable

import asyncpg

from shared.database import create_pool
from shared.messaging.outbox import OutboxRelay

JOIN_TIMEOUT_SECONDS = 10.0


class RelayThread:
    def __init__(self, dsn: str, make_relay: Callable[[asyncpg.Pool], OutboxRelay]) -> None:
        self._dsn = dsn
        self._make_relay = make_relay
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._main, name="outbox-relay", daemon=True)
        self._thread.start()
        self._started.wait(JOIN_TIMEOUT_SECONDS)

    async def stop(self) -> None:
        if self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # its loop already ended
                self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, JOIN_TIMEOUT_SECONDS)

    def _main(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(self._run())

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._started.set()
        pool = await create_pool(self._dsn, 1, 2)
        relay = self._make_relay(pool)
        try:
            await relay.run()
        finally:
            await relay.close()
            await pool.close()
