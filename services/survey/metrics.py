from prometheus_client import CollectorRegistry


class SurveyMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
