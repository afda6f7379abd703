"""The local stack's Prometheus, where it is installed, on what the services really expose: each
service's registry (built by its ``build_runtime``, nothing else started) served on the stack's
port; Prometheus scrapes them all, loads every alert rule, and an alert turns pending on a real
series. No Kafka or PostgreSQL needed."""

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIServer

import httpx
import pytest
from prometheus_client import start_http_server

from gecc.stack import stack
from gecc.stack.config import StackConfig
from gecc.stack.state import load_state
from services.export.app import build_runtime as export_runtime
from services.export.settings import ExportSettings
from services.intake.app import build_runtime as intake_runtime
from services.intake.settings import IntakeSettings
from services.notifier.app import build_runtime as notifier_runtime
from services.notifier.settings import NotifierSettings
from services.portal.app import build_runtime as portal_runtime
from services.portal.settings import PortalSettings
from services.scoring.app import build_runtime as scoring_runtime
from services.scoring.settings import ScoringSettings
from services.survey.app import build_runtime as survey_runtime
from services.survey.settings import SurveySettings
from shared.messaging.runtime import ServiceRuntime
from shared.topics import SERVICES
from tests.support.services import free_port
from tests.unit.test_deploy_tools import REPO, load_yaml

PROMETHEUS = shutil.which("prometheus")
pytestmark = pytest.mark.skipif(
    PROMETHEUS is None,
    reason="Prometheus is not installed (Debian: apt-get install prometheus); "
    "`gecc stack up` skips it the same way",
)


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="gecc-prometheus-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def serve(runtime: ServiceRuntime, port: int) -> WSGIServer:
    server, _ = start_http_server(port, "127.0.0.1", registry=runtime.registry)
    return server


def runtimes() -> dict[str, ServiceRuntime]:
    return {
        "intake": intake_runtime(IntakeSettings()),
        "scoring": scoring_runtime(ScoringSettings()),
        "notifier": notifier_runtime(NotifierSettings()),
        "export": export_runtime(ExportSettings()),
        "portal": portal_runtime(PortalSettings()),
        "survey": survey_runtime(SurveySettings()),
    }


def eventually(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    """``check()``'s first truthy answer within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            assert answer, f"{check.__doc__} not within {timeout:.0f} s"
            return answer
        time.sleep(1.0)


def test_prometheus_scrapes_the_services_and_evaluates_the_alert_rules(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ports = {name: free_port() for name in SERVICES}
    config = StackConfig(
        home=home,
        service_ports=ports,
        prometheus_bin=PROMETHEUS,
        prometheus_port=free_port(),
        start_timeout=60,
    )
    services = runtimes()
    # intake's outbox holds an event 400 s old: GeccOutboxBacklogStale turns pending.
    services["intake"].metrics.outbox_oldest_age.set(400)
    servers = [serve(services[name], ports[name]) for name in SERVICES]
    api = f"{config.prometheus_url}/api/v1"
    try:
        stack._start_prometheus(config)
        assert "prometheus  started" in capsys.readouterr().out
        assert [c.name for c in stack.status(config)] == ["prometheus"]
        assert all(c.state is stack.Health.RUNNING for c in stack.status(config))

        def targets_up() -> dict[str, str]:
            """every service's target up"""
            active = httpx.get(f"{api}/targets", timeout=5).json()["data"]["activeTargets"]
            health = {t["labels"]["job"]: t["health"] for t in active}
            return health if health == dict.fromkeys(SERVICES, "up") else {}

        eventually(targets_up)
        groups = httpx.get(f"{api}/rules", timeout=5).json()["data"]["groups"]
        loaded = {rule["name"]: rule["health"] for g in groups for rule in g["rules"]}
        rules = load_yaml((REPO / "deploy/prometheus/alerts.yml").read_text(encoding="utf-8"))
        assert set(loaded) == {r["alert"] for g in rules["groups"] for r in g["rules"]}
        assert set(loaded.values()) <= {"ok", "unknown"}  # unknown: not evaluated yet

        def outbox_alert() -> list[dict[str, Any]]:
            """GeccOutboxBacklogStale pending for intake"""
            alerts = httpx.get(f"{api}/alerts", timeout=5).json()["data"]["alerts"]
            return [a for a in alerts if a["labels"]["alertname"] == "GeccOutboxBacklogStale"]

        (alert,) = eventually(outbox_alert)
        assert alert["labels"]["service"] == "intake"
        assert alert["labels"]["severity"] == "critical"
        assert "เหตุการณ์ค้างใน outbox" in alert["annotations"]["summary_th"]
        series = httpx.get(
            f"{api}/query", params={"query": "gecc_outbox_backlog"}, timeout=5
        ).json()["data"]["result"]
        assert {s["metric"]["job"] for s in series} == set(SERVICES)

        # Up again: already running; with the services on other ports, it reloads its
        # configuration instead of restarting.
        first = load_state(config.state_file)["prometheus"]
        servers.append(serve(services["export"], moved := free_port()))
        moved_config = StackConfig(
            home=home,
            service_ports={**ports, "export": moved},
            prometheus_bin=PROMETHEUS,
            prometheus_port=config.prometheus_port,
        )
        stack._start_prometheus(moved_config)
        assert "already running" in capsys.readouterr().out
        assert load_state(config.state_file)["prometheus"] == first

        def export_moved() -> bool:
            """the export target moved"""
            active = httpx.get(f"{api}/targets", timeout=5).json()["data"]["activeTargets"]
            return any(t["scrapeUrl"] == f"http://127.0.0.1:{moved}/metrics" for t in active)

        eventually(export_moved, timeout=30)
    finally:
        stack.down(config)
        for server in servers:
            server.shutdown()
            server.server_close()
    assert not config.state_file.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{config.prometheus_url}/-/ready", timeout=5)
