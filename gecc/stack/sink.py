"""The SMTP sink (``python -m gecc.mailsink``): ready once its port greets like an SMTP server."""

import socket
import sys

from gecc.stack import processes
from gecc.stack.config import LOCALHOST, REPO_ROOT, StackConfig
from gecc.stack.state import ProcessRecord

STOP_GRACE = 5.0
GREETING_TIMEOUT = 2.0


def command(config: StackConfig) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gecc.mailsink",
        "--host",
        LOCALHOST,
        "--port",
        str(config.mailsink_port),
        "--dir",
        str(config.mail_dir),
    ]


def start_sink(config: StackConfig) -> ProcessRecord:
    """Start the sink's process (not yet ready); its port must be free."""
    processes.ensure_port_free(config.mailsink_port, "the SMTP sink", "GECC_MAILSINK_PORT")
    config.mail_dir.mkdir(parents=True, exist_ok=True)
    return processes.spawn(
        command(config),
        config.log_file("mailsink"),
        config.mailsink_address,
        cwd=REPO_ROOT,
    )


def is_healthy(config: StackConfig) -> bool:
    """True when the port accepts a connection and greets with SMTP's ``220``."""
    try:
        with socket.create_connection(
            (LOCALHOST, config.mailsink_port), timeout=GREETING_TIMEOUT
        ) as conn:
            greeting = conn.recv(512)
            conn.sendall(b"QUIT\r\n")
    except OSError:
        return False
    return greeting.startswith(b"220")


def wait_ready(config: StackConfig, record: ProcessRecord) -> None:
    """Wait until the sink greets; fail early if its process died."""
    processes.wait_until_ready(
        record,
        "the SMTP sink",
        lambda: is_healthy(config),
        "greet",
        config.log_file("mailsink"),
        config.start_timeout,
    )
