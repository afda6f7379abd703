"""A child process's Prometheus metrics in its parent's ``/metrics``.

The child sends ``families(registry)`` (plain JSON) now and then; the parent keeps the latest
in a ``ChildMetrics`` and serves ``Exposition``: its own families with each child's merged in,
so a family both have (``gecc_events_consumed_total``, say) is one family. A child started
again counts from zero, as a restarted process does (Prometheus sees a counter reset).
"""

from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Metric
from prometheus_client.samples import Sample

Family = dict[str, Any]


def families(registry: CollectorRegistry) -> list[Family]:
    return [
        {
            "name": metric.name,
            "documentation": metric.documentation,
            "type": metric.type,
            "unit": metric.unit,
            "samples": [[s.name, s.labels, s.value] for s in metric.samples],
        }
        for metric in registry.collect()
    ]


class ChildMetrics:
    """The latest families a child sent; none while it is not running."""

    def __init__(self) -> None:
        self.latest: list[Family] = []


class Exposition(CollectorRegistry):
    """``registry``'s metrics and the children's, merged by family; where a child has a
    sample of the same name and labels as the parent, the child's is shown."""

    def __init__(self, registry: CollectorRegistry, children: Iterable[ChildMetrics]) -> None:
        super().__init__(auto_describe=False)
        self._registry = registry
        self._children = children

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for own in self._registry.collect():
            merged[own.name] = _copy(own.name, own.documentation, own.type, own.unit, own.samples)
        for child in self._children:
            for family in child.latest:
                samples = [Sample(name, labels, value) for name, labels, value in family["samples"]]
                into = merged.get(family["name"])
                if into is None:
                    merged[family["name"]] = _copy(
                        family["name"],
                        family["documentation"],
                        family["type"],
                        family["unit"],
                        samples,
                    )
                else:
                    _add(into, samples)
        yield from merged.values()


def _copy(name: str, documentation: str, kind: str, unit: str, samples: list[Sample]) -> Metric:
    metric = Metric(name, documentation, kind, unit)
    metric.samples = list(samples)
    return metric


def _add(metric: Metric, samples: list[Sample]) -> None:
    replaced = {(s.name, tuple(sorted(s.labels.items()))) for s in samples}
    metric.samples = [
        s for s in metric.samples if (s.name, tuple(sorted(s.labels.items()))) not in replaced
    ] + samples
