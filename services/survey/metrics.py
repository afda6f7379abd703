from prometheus_client import CollectorRegistry, Counter, Histogram


class SurveyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.tallied = Counter(
            "gecc_survey_tallied_total",
            "Citizens' responses folded into the tallies (each response once, whatever Kafka"
            " redelivers).",
            registry=registry,
        )
        self.tally_lag = Histogram(
            "gecc_survey_tally_lag_seconds",
            "Seconds from a response's answer to its folding into the tallies (real seconds,"
            " also on an accelerated clock).",
            buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0),
            registry=registry,
        )
