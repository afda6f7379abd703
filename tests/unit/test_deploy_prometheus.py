"""deploy/prometheus: the scrape configuration, the alert rules and their promtool cases, and the
configuration ``gecc stack up`` writes for a local Prometheus."""

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gecc.stack import prometheus
from gecc.stack import stack as local_stack
from gecc.stack.config import StackConfig
from shared.topics import SERVICES
from tests.unit.test_deploy_tools import (
    REPO,
    exposed_series,
    load_yaml,
    metric_names,
    unknown_labels,
    unknown_metrics,
    up_jobs,
)

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool is not installed (Debian: apt-get install prometheus); "
    "the YAML and every metric name are still checked here",
)
THAI = re.compile(r"[\u0e00-\u0e7f]")
# The alerts of the issue: outbox backlog older than 5 minutes, consumer lag growing, any dead
# letter, export not reconciled, completeness under 80 % three days before the deadline; and
# the survey's tallier process ending again and again.
EXPECTED_GROUPS = {
    "gecc-outbox": {"GeccOutboxBacklogStale"},
    "gecc-consumers": {"GeccConsumerLagGrowing"},
    "gecc-dead-letters": {"GeccDeadLetter", "GeccNotificationDeadLettered"},
    "gecc-export": {"GeccExportMismatch", "GeccExportFailed", "GeccExportStalled"},
    "gecc-rounds": {"GeccRoundCompletenessLow"},
    "gecc-portal": {"GeccPortalFailing"},
    "gecc-survey": {"GeccSurveyTallierRestarting"},
    "gecc-services": {"GeccServiceDown"},
}


def load(name: str) -> Any:
    return load_yaml((PROMETHEUS_DIR / name).read_text(encoding="utf-8"))


def rules() -> list[dict[str, Any]]:
    return [rule for group in load("alerts.yml")["groups"] for rule in group["rules"]]


def promtool(*args: str | Path) -> None:
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"promtool {args}:\n{result.stdout}\n{result.stderr}"


def test_the_scrape_configuration_has_one_job_per_service_and_the_rules() -> None:
    config = load("prometheus.yml")
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert list(jobs) == list(SERVICES)
    for name, job in jobs.items():
        # The services' metrics carry their own `service` label: no target label may clash.
        assert [c["targets"] for c in job["static_configs"]] == [[f"{name}:8080"]]
        assert all("labels" not in c for c in job["static_configs"])


def test_service_down_watches_every_service() -> None:
    (rule,) = [r for r in rules() if r["alert"] == "GeccServiceDown"]
    assert up_jobs(rule["expr"]) == set(SERVICES)


def test_the_alert_groups_are_the_issues_and_each_rule_is_complete() -> None:
    groups = load("alerts.yml")["groups"]
    assert {g["name"]: {r["alert"] for r in g["rules"]} for g in groups} == EXPECTED_GROUPS
    for rule in rules():
        assert rule["labels"]["severity"] in ("warning", "critical"), rule["alert"]
        assert re.fullmatch(r"[0-9]+[smh]", rule["for"]), rule["alert"]
        annotations = rule["annotations"]
        assert set(annotations) == {"summary", "summary_th", "description"}, rule["alert"]
        assert THAI.search(annotations["summary_th"]), rule["alert"]
        assert not THAI.search(annotations["summary"]), rule["alert"]


def test_every_rule_reads_metrics_and_labels_the_services_expose() -> None:
    for rule in rules():
        expr = rule["expr"]
        assert metric_names(expr), f"{rule['alert']} reads no metric"
        assert unknown_metrics(expr) == set(), rule["alert"]
        assert unknown_labels(expr) == set(), rule["alert"]
        templated = set()
        for text in rule["annotations"].values():
            templated |= set(re.findall(r"\$labels\.([a-zA-Z_]+)", text))
        known = set().union(*(exposed_series()[name] for name in metric_names(expr)))
        assert templated <= known, f"{rule['alert']}: {templated - known}"


def test_the_promtool_cases_cover_every_alert_on_exposed_series() -> None:
    cases = load("alerts.test.yml")
    assert cases["rule_files"] == ["alerts.yml"]
    fired = set()
    for case in cases["tests"]:
        for series in case["input_series"]:
            name = series["series"].split("{")[0]
            assert name in exposed_series(), name
        fired |= {t["alertname"] for t in case["alert_rule_test"] if t["exp_alerts"]}
    assert fired == {rule["alert"] for rule in rules()}


@needs_promtool
def test_promtool_accepts_the_configuration_and_the_rules() -> None:
    promtool("check", "config", PROMETHEUS_DIR / "prometheus.yml")  # also checks alerts.yml
    promtool("check", "rules", PROMETHEUS_DIR / "alerts.yml")


@needs_promtool
def test_the_alerts_fire_when_they_should_and_only_then() -> None:
    promtool("test", "rules", PROMETHEUS_DIR / "alerts.test.yml")


def local_config(home: Path) -> StackConfig:
    ports = {name: 18080 + n for n, name in enumerate(SERVICES)}
    return StackConfig(home=home, service_ports=ports, prometheus_port=19090)


def test_the_launchers_configuration_scrapes_the_local_services_like_compose(
    tmp_path: Path,
) -> None:
    config = local_config(tmp_path)
    local = load_yaml(prometheus.render_config(config))
    compose = load("prometheus.yml")
    assert local["global"] == compose["global"]
    assert local["rule_files"] == [str(PROMETHEUS_DIR / "alerts.yml")]
    assert [job["job_name"] for job in local["scrape_configs"]] == [
        job["job_name"] for job in compose["scrape_configs"]
    ]
    for job in local["scrape_configs"]:
        name = job["job_name"]
        assert job["static_configs"] == [{"targets": [f"127.0.0.1:{config.service_ports[name]}"]}]
    assert prometheus.write_config(config) is True
    assert prometheus.write_config(config) is False  # unchanged: no reload
    assert prometheus.config_file(config).parent == tmp_path / "prometheus"
    command = prometheus.command(StackConfig(home=tmp_path, prometheus_bin="/usr/bin/prometheus"))
    assert "--web.listen-address=127.0.0.1:9090" in command
    assert f"--storage.tsdb.path={tmp_path / 'prometheus' / 'data'}" in command


@needs_promtool
def test_promtool_accepts_the_launchers_configuration(tmp_path: Path) -> None:
    config = local_config(tmp_path)
    prometheus.write_config(config)
    promtool("check", "config", prometheus.config_file(config))


def test_up_skips_prometheus_when_it_is_not_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local_stack._start_prometheus(StackConfig(home=tmp_path, prometheus_bin=None))
    assert capsys.readouterr().out == (
        "prometheus  not installed (apt-get install prometheus), skipped\n"
    )
    missing = str(tmp_path / "no-such-prometheus")
    local_stack._start_prometheus(StackConfig(home=tmp_path, prometheus_bin=missing))
    out = capsys.readouterr().out
    assert out.startswith("prometheus  not started, skipped: ")
    assert "GECC_PROMETHEUS_BIN" in out
    assert not (tmp_path / "stack.json").exists() or "prometheus" not in (
        tmp_path / "stack.json"
    ).read_text(encoding="utf-8")


def test_the_stack_finds_prometheus_on_the_path_or_in_gecc_prometheus_bin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GECC_PROMETHEUS_BIN", raising=False)
    monkeypatch.delenv("GECC_PROMETHEUS_PORT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert StackConfig.from_env().prometheus_bin is None
    binary = tmp_path / "prometheus"
    binary.write_text("#!/bin/sh\n", encoding="utf-8")
    binary.chmod(0o755)
    config = StackConfig.from_env()
    assert (config.prometheus_bin, config.prometheus_port) == (str(binary), 9090)
    monkeypatch.setenv("GECC_PROMETHEUS_BIN", "/opt/prometheus/prometheus")
    monkeypatch.setenv("GECC_PROMETHEUS_PORT", "19191")
    config = StackConfig.from_env()
    assert (config.prometheus_bin, config.prometheus_address) == (
        "/opt/prometheus/prometheus",
        "127.0.0.1:19191",
    )
