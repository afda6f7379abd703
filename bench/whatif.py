"""What-if runs of intake, to measure a suggestion before anyone makes it.

``python -m bench.whatif [--no-pool-reset] [--path DIR]``
starts intake exactly as ``python -m services.intake`` does, after patching the named
changes into the loaded modules (no file changes). Measure it in turn with the unchanged
service (the machine's speed drifts, so compare neighbours in one run)::

    .venv/bin/python -m bench.intake --targets b,intake,whatif,intake,whatif \\
        --whatif="--no-pool-reset"

- ``--no-pool-reset``: the pool does not run asyncpg's reset query (``UNLISTEN *; RESET
  ALL; ...``) when a connection goes back to it: one round trip less per acquire (a
  submission acquires once, twice when its token is looked up). Safe only while no code
  sets session state on pooled connections.
- ``--path DIR``: ``DIR`` first on ``sys.path``, e.g. a directory where uvloop and
  httptools were installed (``pip install --target DIR uvloop httptools``): uvicorn then
  picks them, as with ``uvicorn[standard]``.

These patches reach into intake's modules by name; when intake's code changes they may
stop applying, and the run then fails at start instead of measuring something else.
"""

import argparse
import sys
from collections.abc import Callable

import asyncpg

import shared.database
import shared.messaging.runtime
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.messaging.runtime import run_service


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


PATCHES: dict[str, Callable[[], None]] = {
    "no_pool_reset": patch_pool_reset,
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
