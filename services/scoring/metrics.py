from prometheus_client import CollectorRegistry, Counter, Histogram


class ScoringMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            "gecc_scoring_duration_seconds",
            "Time to score one submission version (computation and storage).",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=registry,
        )
        self.verdicts = Counter(
            "gecc_verdicts_total",
            "Verdicts given, by round (each submission version and score version once).",
            ["round", "verdict"],
            registry=registry,
        )
