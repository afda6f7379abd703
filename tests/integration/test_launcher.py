"""`gecc stack` on the real broker, database, S3 server, SMTP sink, PMO receiver and services:
idempotent, recovers, leaves nothing."""

import asyncio
import contextlib
import json
import os
import signal
import smtplib
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage

import httpx
import psutil
import pytest

from gecc.mailsink import read_mailbox
from gecc.pmo_receiver.client import signed_headers
from gecc.stack import s3proxy
from gecc.stack.config import StackConfig
from gecc.stack.stack import Health, down, status, up
from gecc.stack.state import load_state
from shared.object_storage import ObjectStorage, ObjectStorageUnavailable
from tests.support.stacks import private_stack


@pytest.fixture
def config() -> Iterator[StackConfig]:
    with private_stack("gecc-launcher-", "launcher.", pmo_secret="launcher-pmo-secret") as own:
        yield own


COMPONENTS = {
    "mailsink",
    "pmo",
    "postgres",
    "kafka",
    "s3proxy",
    "intake",
    "scoring",
    "notifier",
    "export",
    "portal",
}


def test_up_is_idempotent_recovers_a_killed_broker_and_down_leaves_nothing(
    config: StackConfig, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test run's own S3 server (tests/conftest.py) is not this stack's.
    for name in [n for n in os.environ if n.startswith("GECC_S3_")]:
        monkeypatch.delenv(name)
    try:
        up(config)
        first = load_state(config.state_file)
        assert set(first) == COMPONENTS
        assert [c.name for c in status(config)][:5] == [
            "mailsink",
            "pmo",
            "postgres",
            "kafka",
            "s3proxy",
        ]
        assert all(c.state is Health.RUNNING for c in status(config))
        health = httpx.get(f"http://{config.service_address('intake')}/health", timeout=5)
        assert health.json()["database"] == "ok"
        # The sink started before the services and is where the notifier sends its mail.
        assert first["mailsink"].started_epoch <= first["notifier"].started_epoch
        notifier_env = psutil.Process(first["notifier"].pid).environ()
        assert notifier_env["GECC_NOTIFIER_SMTP_HOST"] == "127.0.0.1"
        assert notifier_env["GECC_NOTIFIER_SMTP_PORT"] == str(config.mailsink_port)
        assert notifier_env["GECC_NOTIFIER_PORTAL_URL"] == config.portal_url  # sign-in links
        send_mail(config, "first")
        # The PMO receiver too, and the export service pushes to it with the stack's secret.
        assert first["pmo"].started_epoch <= first["export"].started_epoch
        export_env = psutil.Process(first["export"].pid).environ()
        assert export_env["GECC_EXPORT_PMO_URL"] == f"http://127.0.0.1:{config.pmo_port}"
        assert export_env["GECC_EXPORT_PMO_SECRET"] == "launcher-pmo-secret"
        assert "launcher-pmo-secret" not in " ".join(first["pmo"].command)
        assert push_batch(config).status_code == 201
        # The portal after intake, reaching it, sharing a secret made for this home.
        assert first["intake"].started_epoch <= first["portal"].started_epoch
        portal_env = psutil.Process(first["portal"].pid).environ()
        intake_env = psutil.Process(first["intake"].pid).environ()
        assert portal_env["GECC_PORTAL_INTAKE_URL"] == f"http://{config.service_address('intake')}"
        assert portal_env["GECC_PORTAL_PUBLIC_URL"] == f"http://{config.service_address('portal')}"
        secret = config.portal_secret_file.read_text(encoding="ascii").strip()
        assert portal_env["GECC_PORTAL_CLIENT_SECRET"] == secret
        assert intake_env["GECC_PORTAL_CLIENT_SECRET"] == secret
        assert secret != "gecc-local-portal-secret"
        assert "database" in httpx.get(f"{config.portal_url}/health", timeout=5).json()
        # S3Proxy before the services, its bucket made; intake and export know where it is.
        assert first["s3proxy"].started_epoch <= first["intake"].started_epoch
        for name in ("intake", "export"):
            env = psutil.Process(first[name].pid).environ()
            assert env["GECC_S3_ENDPOINT"] == f"http://127.0.0.1:{config.s3_port}", name
            assert (env["GECC_S3_BUCKET"], env["GECC_S3_ACCESS_KEY"]) == (
                config.s3_bucket,
                config.s3_access_key,
            )
        assert "GECC_S3_ENDPOINT" not in psutil.Process(first["scoring"].pid).environ()
        assert config.s3_secret_key not in " ".join(first["s3proxy"].command)
        asyncio.run(put_object(config, "kept/across-restarts", b"evidence"))

        capsys.readouterr()
        up(config)
        assert capsys.readouterr().out.count("already running") == len(COMPONENTS)
        assert load_state(config.state_file) == first
        send_mail(config, "after a second up")

        for killed in ("kafka", "mailsink", "pmo", "s3proxy"):
            os.kill(first[killed].pid, signal.SIGKILL)
            with contextlib.suppress(psutil.NoSuchProcess):  # already reaped: gone anyway
                psutil.Process(first[killed].pid).wait(10)
        stopped = {c.name: c.state for c in status(config)}
        assert stopped["kafka"] is stopped["mailsink"] is stopped["pmo"] is Health.STOPPED
        assert stopped["s3proxy"] is Health.STOPPED
        up(config)
        again = load_state(config.state_file)
        assert again["kafka"].pid != first["kafka"].pid
        assert again["mailsink"].pid != first["mailsink"].pid
        assert again["pmo"].pid != first["pmo"].pid
        assert again["s3proxy"].pid != first["s3proxy"].pid
        assert again["intake"] == first["intake"]
        assert all(c.state is Health.RUNNING for c in status(config))
        send_mail(config, "after a restart")
        subjects = [message["Subject"] for message in read_mailbox(config.mail_dir)]
        assert subjects == ["first", "after a second up", "after a restart"]
        # The restarted receiver reloaded what it had stored from $GECC_HOME/pmo.
        assert push_batch(config).json()["duplicate"] is True
        assert len(list(config.pmo_dir.rglob("batch-*.json"))) == 1
        # The restarted S3 server serves what it had stored under $GECC_HOME/s3proxy.
        assert asyncio.run(read_object(config, "kept/across-restarts")) == b"evidence"
    finally:
        recorded = load_state(config.state_file)
        down(config)
    assert not config.state_file.exists()
    assert recorded.keys() == COMPONENTS
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", config.mailsink_port, timeout=5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{config.pmo_url}/health", timeout=5)
    with pytest.raises(ObjectStorageUnavailable):
        asyncio.run(read_object(config, "kept/across-restarts"))
    assert [name for name, r in recorded.items() if alive(r.pid)] == []
    assert not any(
        str(config.home) in " ".join(p.info["cmdline"] or [])
        for p in psutil.process_iter(["cmdline"])
        if alive(p.pid)
    )


def send_mail(config: StackConfig, subject: str) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "t@example.org", "u@example.org", subject
    message.set_content("ทดสอบ")
    with smtplib.SMTP("127.0.0.1", config.mailsink_port, timeout=10) as smtp:
        smtp.send_message(message)


async def put_object(config: StackConfig, key: str, content: bytes) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield content

    async with ObjectStorage(s3proxy.storage_config(config)) as storage:
        await storage.put(key, chunks())


async def read_object(config: StackConfig, key: str) -> bytes:
    async with (
        ObjectStorage(s3proxy.storage_config(config, timeout=5)) as storage,
        storage.get(key) as reader,
    ):
        return b"".join([chunk async for chunk in reader.chunks()])


def push_batch(config: StackConfig) -> httpx.Response:
    """One signed batch to the stack's PMO receiver, always the same (same idempotency key)."""
    payload = {
        "export_id": "launcher",
        "round_id": "FY2570-H1",
        "kind": "full",
        "batch": 1,
        "records": [{"center_id": "C1", "status": "on_time"}],
    }
    body = json.dumps(payload).encode()
    return httpx.post(
        f"{config.pmo_url}/gecc/v1/rounds/FY2570-H1/batches/1",
        content=body,
        headers=signed_headers(config.pmo_secret, body, "launcher/1"),
        timeout=10,
    )


def alive(pid: int) -> bool:
    """Running, not merely exited and waiting for init to reap it."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
