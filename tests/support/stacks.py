"""A local stack of a test's own, as `gecc stack up` runs it: a new home and free ports."""

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gecc.stack.config import StackConfig
from shared.topics import SERVICES
from tests.support.services import free_port


@contextmanager
def private_stack(prefix: str, topic_namespace: str, **settings: Any) -> Iterator[StackConfig]:
    """Its home is removed afterwards. Not under pytest's tmp_path: another pytest run resets
    /tmp/pytest-of-<user> to 0700, and PostgreSQL, which runs as its own account when we are
    root, would lose its data."""
    home = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield StackConfig(
            home=home,
            kafka_port=free_port(),
            kafka_controller_port=free_port(),
            postgres_port=free_port(),
            mailsink_port=free_port(),
            pmo_port=free_port(),
            s3_port=free_port(),
            prometheus_port=free_port(),
            topic_namespace=topic_namespace,
            service_ports={name: free_port() for name in SERVICES},
            start_timeout=120,
            **settings,
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
