"""What-if runs of intake, to measure a suggestion before anyone makes it.

``python -m bench.whatif [--no-pool-reset] [--cache-tokens] [--no-notify] [--path DIR]``
starts intake exactly as ``python -m services.intake`` does, after patching the named
changes into the loaded modules (no file changes). Measure it in turn with the unchanged
service (the machine's speed drifts, so compare neighbours in one run)::

    .venv/bin/python -m bench.intake --targets b,intake,whatif,intake,whatif \\
        --whatif="--cache-tokens"

- ``--no-pool-reset``: the pool does not run asyncpg's reset query (``UNLISTEN *; RESET
  ALL; ...``) when a connection goes back to it: one round trip less per acquire (a
  submission acquires once, twice when its token is looked up). Safe only while no code
  sets session state on pooled connections.
- ``--cache-tokens``: ``repository.principal_for`` answers from a 30 s cache (a revoked
  token keeps working for up to that long): one query less per lookup (intake has its own
  cache in front of it since 43963f4, which makes this one matter little).
- ``--no-notify``: the outbox row is written without ``pg_notify`` (the relay then finds
  it by its 1 s poll): one round trip less, and no commit-time notify lock.
- ``--path DIR``: ``DIR`` first on ``sys.path``, e.g. a directory where uvloop and
  httptools were installed (``pip install --target DIR uvloop httptools``): uvicorn then
  picks them, as with ``uvicorn[standard]``.

These patches reach into intake's modules by name; when intake's code changes they may
stop applying, and the run then fails at start instead of measuring something else.
"""

import argparse
import sys
import time
from collections.abc import Callable
from typing import Any

import asyncpg

import shared.database
import shared.messaging.runtime
from services.intake import handlers
from services.intake.adapters import repository
from services.intake.app import create_app
from services.intake.domain.principals import Principal
from services.intake.settings import IntakeSettings
from shared.events import Envelope
from shared.messaging.runtime import run_service

TOKEN_TTL_SECONDS = 30.0


def _require(module: object, name: str) -> None:
    if not hasattr(module, name):
        raise RuntimeError(f"what-if no longer applies: {module!r} has no {name}")


async def _keep_connection(_: asyncpg.Connection) -> None:
    """Pool ``reset`` hook that runs no query (asyncpg still ends an open transaction)."""


def patch_pool_reset() -> None:
    _require(shared.messaging.runtime, "create_pool")
    _require(shared.database, "_init_connection")
    init = shared.database._init_connection

    async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
        pool = await asyncpg.create_pool(
            dsn, min_size=min_size, max_size=max_size, init=init, reset=_keep_connection
        )
        assert pool is not None
        return pool

    shared.messaging.runtime.create_pool = create_pool


def patch_token_cache() -> None:
    _require(repository, "principal_for")
    read = repository.principal_for
    cache: dict[str, tuple[float, Principal | None]] = {}

    async def principal_for(conn: asyncpg.Connection, token: str) -> Principal | None:
        now = time.monotonic()
        hit = cache.get(token)
        if hit is not None and hit[0] > now:
            return hit[1]
        found = await read(conn, token)
        cache[token] = (now + TOKEN_TTL_SECONDS, found)
        return found

    repository.principal_for = principal_for


def patch_no_notify() -> None:
    _require(handlers, "enqueue")

    async def enqueue(
        conn: asyncpg.Connection, service: str, topic: str, key: str, event: Envelope[Any]
    ) -> None:
        await conn.execute(
            "INSERT INTO outbox (event_id, topic, message_key, payload) VALUES ($1, $2, $3, $4)",
            event.event_id,
            topic,
            key,
            event.model_dump_json().encode(),
        )

    handlers.enqueue = enqueue


PATCHES: dict[str, Callable[[], None]] = {
    "no_pool_reset": patch_pool_reset,
    "cache_tokens": patch_token_cache,
    "no_notify": patch_no_notify,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.whatif")
    for name in PATCHES:
        parser.add_argument(f"--{name.replace('_', '-')}", action="store_true")
    parser.add_argument(
        "--path", action="append", default=[], help="put DIR first on sys.path (e.g. uvloop)"
    )
    args = parser.parse_args(argv)
    sys.path[:0] = args.path
    for name, patch in PATCHES.items():
        if getattr(args, name):
            patch()
    return run_service(IntakeSettings(), create_app, ["serve"])


if __name__ == "__main__":
    sys.exit(main())
