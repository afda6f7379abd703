"""The reference PMO receiver (``python -m gecc.pmo_receiver``): ready once ``GET /health``
answers 200. Its signing secret goes through the environment, never the command line."""

import os
import sys

from gecc.pmo_receiver import SECRET_ENV
from gecc.stack import processes
from gecc.stack.config import LOCALHOST, REPO_ROOT, StackConfig
from gecc.stack.state import ProcessRecord

STOP_GRACE = 5.0


def command(config: StackConfig) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gecc.pmo_receiver",
        "--host",
        LOCALHOST,
        "--port",
        str(config.pmo_port),
        "--dir",
        str(config.pmo_dir),
    ]


def start_receiver(config: StackConfig) -> ProcessRecord:
    """Start the receiver's process (not yet ready); its port must be free."""
    processes.ensure_port_free(config.pmo_port, "the PMO receiver", "GECC_PMO_PORT")
    config.pmo_dir.mkdir(parents=True, exist_ok=True)
    return processes.spawn(
        command(config),
        config.log_file("pmo"),
        config.pmo_address,
        cwd=REPO_ROOT,
        env={**os.environ, SECRET_ENV: config.pmo_secret},
    )


def is_healthy(config: StackConfig) -> bool:
    return processes.answers_ok(f"{config.pmo_url}/health")


def wait_ready(config: StackConfig, record: ProcessRecord) -> None:
    """Wait until ``GET /health`` answers 200; fail early if its process died."""
    processes.wait_until_ready(
        record,
        "the PMO receiver",
        lambda: is_healthy(config),
        "answer GET /health",
        config.log_file("pmo"),
        config.start_timeout,
    )
