"""A child process's metrics in its parent's exposition: one family per name, the child's
histograms whole, the child's sample where both have the same one, nothing once it is gone."""

import json

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from shared.service.child_metrics import ChildMetrics, Exposition, families


def exposed(registry: CollectorRegistry) -> dict[str, dict[str, float]]:
    text = generate_latest(registry).decode()
    return {
        family.name: {
            s.name + json.dumps(s.labels, sort_keys=True): s.value for s in family.samples
        }
        for family in text_string_to_metric_families(text)
    }


def test_a_childs_families_join_the_parents() -> None:
    parent, child = CollectorRegistry(), CollectorRegistry()
    Counter("gecc_consumed", "Consumed", ["topic"], registry=parent).labels("a").inc()
    Counter("gecc_consumed", "Consumed", ["topic"], registry=child).labels("b").inc(3)
    Histogram("gecc_lag_seconds", "Lag", buckets=(1.0,), registry=child).observe(0.5)
    Gauge("gecc_backlog", "Backlog", registry=parent).set(2)
    Gauge("gecc_backlog", "Backlog", registry=child).set(7)
    shown = ChildMetrics()
    shown.latest = json.loads(json.dumps(families(child)))  # as it travels

    merged = exposed(Exposition(parent, [shown]))
    consumed = merged["gecc_consumed"]
    assert consumed['gecc_consumed_total{"topic": "a"}'] == 1
    assert consumed['gecc_consumed_total{"topic": "b"}'] == 3
    assert merged["gecc_lag_seconds"] == {
        'gecc_lag_seconds_bucket{"le": "1.0"}': 1,
        'gecc_lag_seconds_bucket{"le": "+Inf"}': 1,
        "gecc_lag_seconds_count{}": 1,
        "gecc_lag_seconds_sum{}": 0.5,
    }
    assert merged["gecc_backlog"] == {"gecc_backlog{}": 7}  # the child's, once

    shown.latest = []  # the child ended
    alone = exposed(Exposition(parent, [shown]))
    assert "gecc_lag_seconds" not in alone
    assert alone["gecc_backlog"] == {"gecc_backlog{}": 2}
