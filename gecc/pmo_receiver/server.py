"""Run the receiver: options from the command line (``gecc pmo-receiver`` or
``python -m gecc.pmo_receiver``), the store loaded from its directory, uvicorn serving."""

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from gecc.pmo_receiver import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SECRET, SECRET_ENV
from gecc.pmo_receiver.app import create_app
from gecc.pmo_receiver.control import Injection
from gecc.pmo_receiver.storage import BatchStore, StorageError

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_dir() -> Path:
    """``$GECC_HOME/pmo`` (``GECC_HOME`` defaults to ``.gecc/`` in the repository)."""
    return Path(os.environ.get("GECC_HOME") or REPO_ROOT / ".gecc") / "pmo"


def default_secret() -> str:
    return os.environ.get(SECRET_ENV) or DEFAULT_SECRET


@dataclass(frozen=True)
class Options:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    directory: Path | None = None
    secret: str | None = None
    fail_share: float = 0.0
    slow_share: float = 0.0
    slow_seconds: float = 0.0
    seed: int | None = None


def run(options: Options) -> None:
    """Serve until SIGINT/SIGTERM; exit 2 on bad options, 1 on an unreadable directory."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    directory = (options.directory or default_dir()).expanduser().resolve()
    secret = options.secret or default_secret()
    try:
        injection = Injection(
            fail_share=options.fail_share,
            slow_share=options.slow_share,
            slow_seconds=options.slow_seconds,
            seed=options.seed,
        )
    except ValueError as error:
        print(f"pmo-receiver: {error}", file=sys.stderr, flush=True)
        sys.exit(2)
    try:
        store = BatchStore.open(directory)
    except (StorageError, OSError) as error:
        print(f"pmo-receiver: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    which = "the default" if secret == DEFAULT_SECRET else "a configured"
    print(
        f"pmo-receiver on http://{options.host}:{options.port}, {store.batch_count} batches "
        f"loaded from {directory}, {which} secret; fail_share {injection.fail_share}, "
        f"slow_share {injection.slow_share} ({injection.slow_seconds} s), seed {injection.seed}",
        flush=True,
    )
    app = create_app(store, injection, secret)
    uvicorn.run(
        app,
        host=options.host,
        port=options.port,
        log_level="info",
        timeout_graceful_shutdown=2,
    )
