from prometheus_client import CollectorRegistry, Counter, Gauge


class SurveyMetrics:
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
