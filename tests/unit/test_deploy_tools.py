"""What the deploy tests (``test_deploy_*.py``) read the deployment files with, and its tests.

- ``load_yaml``: a deployment file's YAML as PyYAML's safe loader reads it, except that a key
  given twice in one mapping is an error (PyYAML would silently keep the last one).
- ``metric_names`` and ``label_names``: the metrics and labels a PromQL expression reads;
  ``up_jobs``: the jobs an ``up{job=~"..."}`` selector names.
- ``exposed_series``: every series name the services expose, with its label names, read
  from the registries their ``build_runtime`` fills (nothing is started), plus Prometheus' own
  ``up``.
"""

import functools
import importlib
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.topics import SERVICES

REPO = Path(__file__).resolve().parents[2]
DEPLOY_YAML = [
    REPO / "docker-compose.yml",
    *sorted((REPO / "deploy" / "prometheus").glob("*.yml")),
    *sorted((REPO / "deploy" / "grafana").rglob("*.yml")),
]


# --- YAML ---------------------------------------------------------------------------------

_MERGE = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue  # keys merged in with << may be overridden
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping",
                    node.start_mark,
                    f"key {key!r} given twice",
                    key_node.start_mark,
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_UniqueKeyLoader)


# --- PromQL ---------------------------------------------------------------------------------

_PROMQL_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "offset",
    "bool",
    "inf",
    "nan",
}
_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_MATCHERS = re.compile(r"\{([^{}]*)\}")


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (not its functions, keywords or labels)."""
    text = _STRING.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = re.sub(r"\[[^\[\]]*\]", " ", text)  # ranges, subqueries, Grafana's $__range
    text = _GROUPING.sub(" ", text)
    text = re.sub(r"\boffset\s+-?[0-9a-z]+", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w(])", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in _PROMQL_KEYWORDS:
            names.add(match.group())
    return names


def label_names(expr: str) -> set[str]:
    """The label names an expression matches on or groups by."""
    text = _STRING.sub('""', expr)
    labels = set()
    for matchers in _MATCHERS.findall(text):
        labels |= set(re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", matchers))
    for _, names in _GROUPING.findall(text):
        labels |= {name.strip() for name in names.split(",") if name.strip()}
    return labels


def up_jobs(expr: str) -> set[str]:
    """The jobs an ``up{job=~"a|b"}`` selector matches."""
    match = re.search(r'\bup\{job=~"([^"]*)"\}', expr)
    assert match is not None, expr
    return set(match.group(1).split("|"))


# --- what the services expose ---------------------------------------------------------------

# Prometheus' own series for each target, and the labels it attaches to every scraped one.
PROMETHEUS_SERIES = {"up": frozenset({"job", "instance"})}
TARGET_LABELS = frozenset({"job", "instance"})
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


@functools.cache
def exposed_series() -> dict[str, frozenset[str]]:
    """Each series name the services expose (FastStream's metrics included) → its labels."""
    series = dict(PROMETHEUS_SERIES)
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app")
        settings = importlib.import_module(f"services.{service}.settings")
        settings_class = getattr(settings, f"{service.capitalize()}Settings")
        registry = app.build_runtime(settings_class()).registry
        for family in registry.collect():
            # prometheus_client keeps a metric's label names only on the metric object.
            labels = frozenset(registry._names_to_collectors[family.name]._labelnames)
            for suffix in _SUFFIXES[family.type]:
                extra = {"le"} if suffix == "_bucket" else set()
                name = family.name + suffix
                series[name] = series.get(name, frozenset()) | labels | extra | TARGET_LABELS
    return series


def unknown_metrics(expr: str) -> set[str]:
    return metric_names(expr) - exposed_series().keys()


def unknown_labels(expr: str) -> set[str]:
    """Labels the expression uses that none of its metrics has."""
    known = set().union(*(exposed_series().get(name, set()) for name in metric_names(expr)))
    return label_names(expr) - known


# --- tests of the above ---------------------------------------------------------------------


def test_every_deploy_file_is_yaml_without_a_key_given_twice() -> None:
    for path in DEPLOY_YAML:
        assert isinstance(load_yaml(path.read_text(encoding="utf-8")), dict), path


def test_a_key_given_twice_is_refused_where_a_merge_may_override() -> None:
    with pytest.raises(yaml.YAMLError, match="'image' given twice"):
        load_yaml("web:\n  image: a\n  ports: [80]\n  image: b\n")
    merged = "base: &base\n  image: a\n  ports: [80]\nweb:\n  <<: *base\n  image: b\n"
    assert load_yaml(merged)["web"] == {"image": "b", "ports": [80]}


def test_metric_and_label_names_of_an_expression() -> None:
    expr = (
        'sum by (service, topic) (increase(gecc_dead_letters_total{reason!="x"}[15m])) > 0 or '
        "sum by (service) (gecc_dead_letters_total unless gecc_dead_letters_total offset 15m)"
        " and on (round) max(gecc_round_seconds_to_due) < 3 * 86400 and "
        "histogram_quantile(0.95, sum by (le) (rate(h_bucket[$__rate_interval]))) > 1e3 and "
        'label_replace(up{job=~"a|b"}, "x", "$1", "job", "(.*)")'
    )
    assert metric_names(expr) == {
        "gecc_dead_letters_total",
        "gecc_round_seconds_to_due",
        "h_bucket",
        "up",
    }
    assert label_names(expr) == {"service", "topic", "reason", "round", "le", "job"}


def test_exposed_series_come_from_the_services_registries() -> None:
    series = exposed_series()
    assert series["gecc_outbox_backlog"] >= {"service", "job", "instance"}
    assert series["gecc_dead_letters_total"] >= {"service", "topic", "reason"}
    assert series["gecc_export_mismatch"] >= {"round_id"}
    assert series["gecc_scoring_duration_seconds_bucket"] >= {"le"}
    assert "gecc_received_messages_total" in series  # FastStream's, registered up front
    assert "gecc_dead_letters" not in series  # a counter is exposed as ..._total only
