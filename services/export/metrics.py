import time
from collections.abc import Iterator
from contextlib import contextmanager

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class ExportMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.batches = Counter(
            "gecc_export_batches_total",
            "Batch deliveries to the PMO system by outcome: acknowledged, duplicate (the PMO"
            " system had it already), retried (a temporary failure), failed (refused for good).",
            ["outcome"],
            registry=registry,
        )
        self.last_success = Gauge(
            "gecc_export_last_success_timestamp",
            "Unix time of the last export the PMO system acknowledged and reconciled.",
            registry=registry,
        )
        self.reconciliations = Counter(
            "gecc_export_reconciliations_total",
            "Delivered exports by whether the PMO system's counts matched ours.",
            ["result"],
            registry=registry,
        )
        self.mismatch = Gauge(
            "gecc_export_mismatch",
            "1 while the round's latest delivered export does not reconcile with the PMO"
            " system's counts (alert on it), else 0.",
            ["round_id"],
            registry=registry,
        )
        self.build_seconds = Histogram(
            "gecc_export_build_seconds",
            "Time to build an export: records, files, batches.",
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
            registry=registry,
        )


class Timings:
    """Seconds spent in each named part of one build or delivery, added up over its calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            spent = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + spent

    def __str__(self) -> str:
        return ", ".join(f"{name} {seconds:.3f} s" for name, seconds in self.seconds.items())
