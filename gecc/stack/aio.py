"""Run the launcher's async steps (asyncpg, aiokafka) from its synchronous API."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(step: Coroutine[Any, Any, T]) -> T:
    """Run ``step`` to completion, also when called from inside a running event loop.

    A test's async fixture may call the launcher: ``asyncio.run`` refuses to nest, so the
    step then gets its own loop on a worker thread while the caller's loop waits.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(step)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gecc-stack") as worker:
        return worker.submit(asyncio.run, step).result()
