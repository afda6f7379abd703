"""`gecc stack` on the real broker, database and services: idempotent, recovers, leaves nothing."""

import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from gecc.stack.config import StackConfig
from gecc.stack.stack import Health, down, status, up
from gecc.stack.state import load_state
from tests.support.services import free_port


@pytest.fixture
def config() -> Iterator[StackConfig]:
    # Not under pytest's tmp_path: another pytest run resets /tmp/pytest-of-<user> to 0700,
    # and PostgreSQL, which runs as its own account when we are root, would lose its data.
    home = Path(tempfile.mkdtemp(prefix="gecc-launcher-"))
    yield StackConfig(
        home=home,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        postgres_port=free_port(),
        topic_namespace="launcher.",
        service_ports={name: free_port() for name in ("intake", "scoring", "notifier", "export")},
        start_timeout=120,
    )
    shutil.rmtree(home, ignore_errors=True)


def test_up_is_idempotent_recovers_a_killed_broker_and_down_leaves_nothing(
    config: StackConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        up(config)
        first = load_state(config.state_file)
        assert set(first) == {"postgres", "kafka", "intake", "scoring", "notifier", "export"}
        assert all(c.state is Health.RUNNING for c in status(config))
        health = httpx.get(f"http://{config.service_address('intake')}/health", timeout=5)
        assert health.json()["database"] == "ok"

        capsys.readouterr()
        up(config)
        assert capsys.readouterr().out.count("already running") == 6
        assert load_state(config.state_file) == first

        os.kill(first["kafka"].pid, signal.SIGKILL)
        psutil.Process(first["kafka"].pid).wait(10)
        assert {c.name: c.state for c in status(config)}["kafka"] is Health.STOPPED
        up(config)
        again = load_state(config.state_file)
        assert again["kafka"].pid != first["kafka"].pid
        assert again["intake"] == first["intake"]
        assert all(c.state is Health.RUNNING for c in status(config))
    finally:
        recorded = load_state(config.state_file)
        down(config)
    assert not config.state_file.exists()
    assert [name for name, r in recorded.items() if alive(r.pid)] == []
    assert not any(
        str(config.home) in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["cmdline"])
        if alive(p.pid)
    )


def alive(pid: int) -> bool:
    """Running, not merely exited and waiting for init to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
