"""Prometheus beside the local services, when it is installed (Debian: ``apt-get install
prometheus``): it scrapes each service's ``/metrics`` and evaluates the alert rules of
``deploy/prometheus/alerts.yml``; ready once ``GET /-/ready`` answers 200.

Its configuration is written to ``$GECC_HOME/prometheus/prometheus.yml`` at every start: the
jobs of ``deploy/prometheus/prometheus.yml`` (the compose one), with 127.0.0.1 and the stack's
ports for targets. Its data is kept in ``$GECC_HOME/prometheus/data``."""

import json
import os
import shutil
import signal
from pathlib import Path

from gecc.stack import processes
from gecc.stack.config import REPO_ROOT, StackConfig
from gecc.stack.errors import StackError
from gecc.stack.state import ProcessRecord
from shared.topics import SERVICES

STOP_GRACE = 10.0
ALERT_RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
SCRAPE_INTERVAL = "15s"
RETENTION_SIZE = "1GB"


def config_file(config: StackConfig) -> Path:
    return config.prometheus_dir / "prometheus.yml"


def data_dir(config: StackConfig) -> Path:
    return config.prometheus_dir / "data"


def render_config(config: StackConfig) -> str:
    """Prometheus' configuration for the local stack: one job per service, named after it."""

    def quoted(text: str) -> str:  # a JSON string is a YAML double-quoted scalar
        return json.dumps(text)

    lines = [
        "# Written by `gecc stack up` at every start; the compose stack's is",
        "# deploy/prometheus/prometheus.yml.",
        "global:",
        f"  scrape_interval: {SCRAPE_INTERVAL}",
        "  scrape_timeout: 10s",
        f"  evaluation_interval: {SCRAPE_INTERVAL}",
        "  external_labels:",
        "    system: gecc",
        "",
        "rule_files:",
        f"  - {quoted(str(ALERT_RULES))}",
        "",
        "scrape_configs:",
    ]
    for name in SERVICES:
        lines += [
            f"  - job_name: {name}",
            "    static_configs:",
            f"      - targets: [{quoted(config.service_address(name))}]",
        ]
    return "\n".join(lines) + "\n"


def write_config(config: StackConfig) -> bool:
    """Write the configuration; True when it changed (a running Prometheus must reload it)."""
    path = config_file(config)
    text = render_config(config)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".yml.tmp")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return True


def command(config: StackConfig) -> list[str]:
    if config.prometheus_bin is None:
        raise StackError("no Prometheus binary: install it (apt-get install prometheus)")
    return [
        config.prometheus_bin,
        f"--config.file={config_file(config)}",
        f"--storage.tsdb.path={data_dir(config)}",
        f"--storage.tsdb.retention.size={RETENTION_SIZE}",
        f"--web.listen-address={config.prometheus_address}",
    ]


def start_prometheus(config: StackConfig) -> ProcessRecord:
    """Write its configuration and start it (not yet ready); its port must be free."""
    binary = config.prometheus_bin
    if binary is None or shutil.which(binary) is None:
        raise StackError(
            f"{binary!r} is not an executable file: set GECC_PROMETHEUS_BIN to Prometheus' binary"
        )
    processes.ensure_port_free(config.prometheus_port, "Prometheus", "GECC_PROMETHEUS_PORT")
    write_config(config)
    data_dir(config).mkdir(parents=True, exist_ok=True)
    return processes.spawn(
        command(config),
        config.log_file("prometheus"),
        config.prometheus_address,
        cwd=config.prometheus_dir,
    )


def reload(record: ProcessRecord) -> None:
    """Make a running Prometheus read its configuration again (it does on SIGHUP)."""
    if processes.is_ours(record):
        os.kill(record.pid, signal.SIGHUP)


def is_healthy(config: StackConfig) -> bool:
    return processes.answers_ok(f"{config.prometheus_url}/-/ready")


def wait_ready(config: StackConfig, record: ProcessRecord) -> None:
    """Wait until ``GET /-/ready`` answers 200; fail early if its process died."""
    processes.wait_until_ready(
        record,
        "Prometheus",
        lambda: is_healthy(config),
        "answer GET /-/ready",
        config.log_file("prometheus"),
        config.start_timeout,
        interval=0.2,
    )
