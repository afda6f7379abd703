"""What the launcher gives each service: the portal's links to intake and to itself, and the
portal client secret intake and the portal share, made once per home; and when a service's
Kafka consumers count as joined."""

import json
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gecc.stack.config import DEFAULT_SERVICE_PORTS, StackConfig
from gecc.stack.services import consumers_joined
from shared.topics import SERVICES


def test_every_service_has_its_own_default_port_and_the_portal_is_on_8084() -> None:
    assert list(DEFAULT_SERVICE_PORTS) == list(SERVICES)
    assert len(set(DEFAULT_SERVICE_PORTS.values())) == len(SERVICES)
    assert DEFAULT_SERVICE_PORTS["portal"] == 8084


def test_the_survey_is_on_8085_and_its_posters_lead_to_its_own_address(tmp_path: Path) -> None:
    config = StackConfig(home=tmp_path, service_ports={**DEFAULT_SERVICE_PORTS, "survey": 18085})
    env = config.service_env("survey")
    assert DEFAULT_SERVICE_PORTS["survey"] == 8085
    assert env["GECC_SURVEY_HTTP_PORT"] == "18085"
    assert env["GECC_SURVEY_PUBLIC_URL"] == "http://127.0.0.1:18085"
    assert env["GECC_SURVEY_DATABASE_URL"].startswith("postgresql://survey@")


def test_the_portal_reaches_intake_and_the_sign_in_links_lead_to_the_portal(tmp_path: Path) -> None:
    ports = {**DEFAULT_SERVICE_PORTS, "intake": 18080, "survey": 18085}
    config = StackConfig(home=tmp_path, service_ports=ports)
    env = config.service_env("portal")
    assert env["GECC_PORTAL_INTAKE_URL"] == "http://127.0.0.1:18080"
    assert env["GECC_PORTAL_SURVEY_URL"] == env["GECC_PORTAL_SURVEY_PUBLIC_URL"]
    assert env["GECC_PORTAL_SURVEY_URL"] == "http://127.0.0.1:18085"
    assert env["GECC_PORTAL_PUBLIC_URL"] == "http://127.0.0.1:8084" == config.portal_url
    assert env["GECC_PORTAL_HTTP_PORT"] == "8084"
    assert config.service_env("notifier")["GECC_NOTIFIER_PORTAL_URL"] == config.portal_url


def test_intake_and_the_portal_share_a_random_secret_made_once_per_home(tmp_path: Path) -> None:
    first, second = StackConfig(home=tmp_path / "one"), StackConfig(home=tmp_path / "two")
    secret = first.service_env("intake")["GECC_PORTAL_CLIENT_SECRET"]
    assert len(secret) >= 43  # 32 random bytes, URL-safe base64
    assert first.service_env("portal")["GECC_PORTAL_CLIENT_SECRET"] == secret
    assert StackConfig(home=tmp_path / "one").portal_client_secret() == secret  # kept
    assert second.portal_client_secret() != secret
    assert stat.S_IMODE(first.portal_secret_file.stat().st_mode) == 0o600
    assert first.portal_secret_file.parent == first.home
    second.portal_secret_file.write_text("\n", encoding="ascii")  # cut short by a crash
    assert len(second.portal_client_secret()) >= 43


def test_only_intake_and_the_portal_get_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GECC_PORTAL_CLIENT_SECRET", raising=False)
    config = StackConfig(home=tmp_path)
    for name in ("scoring", "notifier", "export"):
        assert "GECC_PORTAL_CLIENT_SECRET" not in config.service_env(name), name


@contextmanager
def health_server(bodies: dict[str, dict[str, Any]]) -> Iterator[str]:
    """Answers ``GET /<name>/health`` with ``bodies[name]``; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps(bodies[self.path.split("/")[1]]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_a_service_without_kafka_counts_as_joined_one_still_connecting_does_not() -> None:
    bodies = {
        "notifier": {"status": "ok", "database": "ok", "kafka": "ok"},
        "portal": {"status": "ok", "database": "ok"},
        "export": {"status": "ok", "database": "ok", "kafka": "connecting"},
    }
    with health_server(bodies) as base:
        urls = {name: f"{base}/{name}" for name in bodies}
        assert await consumers_joined({k: urls[k] for k in ("notifier", "portal")}, 5.0) is None
        assert await consumers_joined(urls, 0.3) == "export"
