"""deploy/grafana: the provisioned data source and dashboard provider, and the GECC dashboard,
every query of which reads metrics the services expose."""

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

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

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARD = GRAFANA / "dashboards" / "gecc.json"
PROMTOOL = shutil.which("promtool")
# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "6h", "$__interval": "15s"}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels() -> list[dict[str, Any]]:
    return [p for p in dashboard()["panels"] if p["type"] != "row"]


def queries() -> list[tuple[str, str, str]]:
    """(panel title, expression, legend) of every query."""
    return [(p["title"], t["expr"], t["legendFormat"]) for p in panels() for t in p["targets"]]


def rows() -> dict[str, set[str]]:
    """Each row's title → the metrics its panels read (panels follow their row)."""
    found: dict[str, set[str]] = {}
    current = ""
    for panel in dashboard()["panels"]:
        if panel["type"] == "row":
            current = panel["title"]
            found[current] = set()
        else:
            for target in panel["targets"]:
                found[current] |= metric_names(target["expr"])
    return found


def provisioned(kind: str) -> dict[str, Any]:
    (path,) = (GRAFANA / "provisioning" / kind).glob("*.yml")
    loaded: dict[str, Any] = load_yaml(path.read_text(encoding="utf-8"))
    assert loaded["apiVersion"] == 1
    return loaded


def test_the_data_source_is_the_compose_prometheus_and_every_panel_uses_it() -> None:
    (source,) = provisioned("datasources")["datasources"]
    assert (source["type"], source["url"]) == ("prometheus", "http://prometheus:9090")
    assert source["isDefault"] is True
    for panel in panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": source["uid"]}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == source["uid"], panel["title"]
    (variable,) = dashboard()["templating"]["list"]
    assert variable["datasource"]["uid"] == source["uid"]


def test_the_provider_loads_the_dashboards_directory() -> None:
    (provider,) = provisioned("dashboards")["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/etc/grafana/dashboards"  # docker-compose.yml mount
    assert sorted(p.name for p in (GRAFANA / "dashboards").iterdir()) == ["gecc.json"]


def test_the_dashboard_is_well_formed() -> None:
    board = dashboard()
    assert board["uid"] == "gecc-operations"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["w"] > 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] != "row":
            assert panel["targets"] and panel["description"], panel["title"]
            ref_ids = [t["refId"] for t in panel["targets"]]
            assert len(ref_ids) == len(set(ref_ids)), panel["title"]


def test_the_rows_show_round_progress_throughput_lag_delivery_and_the_portal() -> None:
    by_row = {title.split(" · ")[0]: metrics for title, metrics in rows().items()}
    assert list(by_row) == ["Services", "Round progress", "Throughput", "Lag", "Delivery", "Portal"]
    assert by_row["Round progress"] >= {
        "gecc_round_completeness_ratio",
        "gecc_round_submissions",
        "gecc_round_seconds_to_due",
        "gecc_verdicts_total",
    }
    assert by_row["Throughput"] >= {
        "gecc_outbox_published_total",
        "gecc_received_messages_total",
        "gecc_events_consumed_total",
    }
    assert by_row["Lag"] >= {
        "gecc_consumer_lag",
        "gecc_outbox_backlog",
        "gecc_outbox_oldest_age_seconds",
        "gecc_dead_letters_total",
    }
    assert by_row["Delivery"] >= {
        "gecc_notifications_total",
        "gecc_notifications_in_ledger",
        "gecc_export_batches_total",
        "gecc_export_reconciliations_total",
        "gecc_export_mismatch",
        "gecc_export_last_success_timestamp",
    }
    assert by_row["Portal"] >= {
        "gecc_portal_page_seconds_count",
        "gecc_portal_page_seconds_bucket",
        "gecc_portal_sign_ins_total",
        "gecc_portal_submissions_total",
    }


def test_the_services_row_shows_every_service() -> None:
    (services,) = [p for p in panels() if p["title"] == "Services up"]
    (target,) = services["targets"]
    assert up_jobs(target["expr"]) == set(SERVICES)


def test_every_query_reads_metrics_and_labels_the_services_expose() -> None:
    for title, expr, legend in queries():
        assert metric_names(expr), f"{title}: reads no metric"
        assert unknown_metrics(expr) == set(), title
        assert unknown_labels(expr) == set(), title
        legend_labels = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))
        known = set().union(*(exposed_series()[name] for name in metric_names(expr)))
        assert legend_labels <= known, f"{title}: {legend_labels - known}"
    (variable,) = dashboard()["templating"]["list"]
    match = re.fullmatch(r"label_values\((\w+), (\w+)\)", variable["definition"])
    assert match is not None
    metric, label = match.groups()
    assert label in exposed_series()[metric]
    assert variable["query"]["query"] == variable["definition"]


@pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install prometheus)"
)
def test_promtool_parses_every_query(tmp_path: Path) -> None:
    """Each query as a recording rule, Grafana's variables filled in: promtool parses them."""
    lines = ["groups:", "  - name: dashboard", "    rules:"]
    for n, (_, expr, _) in enumerate(queries()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        expr = expr.replace("$round", ".*")
        assert "$" not in expr, expr
        lines += [f"      - record: gecc:dashboard:query{n}", f"        expr: {json.dumps(expr)}"]
    rules = tmp_path / "dashboard.rules.yml"
    rules.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert PROMTOOL is not None
    result = subprocess.run(
        [PROMTOOL, "check", "rules", str(rules)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
