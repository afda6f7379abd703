from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class SurveyMetrics:
    """The survey process's own: the public page's, and how often its tallier process ended."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.responses = Counter(
            "gecc_survey_responses",
            "Citizens' responses accepted (Kafka acknowledged them)",
            registry=registry,
        )
        self.refusals = Counter(
            "gecc_survey_refusals",
            "Survey answers not accepted, by reason",
            ["reason"],
            registry=registry,
        )
        self.directory_centers = Gauge(
            "gecc_survey_directory_centers",
            "Centers in the survey page's in-memory directory",
            registry=registry,
        )
        self.tallier_restarts = Counter(
            "gecc_survey_tallier_restarts",
            "Times the tallier's process ended and was started again",
            registry=registry,
        )


class TallierMetrics:
    """The tallier process's, shown in the survey's ``/metrics``."""

    def __init__(self, registry: CollectorRegistry) -> None:
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
