from prometheus_client import CollectorRegistry, Counter, Gauge


class MessagingMetrics:
    """Outbox and consumer metrics of one service, registered in that service's registry."""

    def __init__(self, registry: CollectorRegistry, service: str) -> None:
        self.service = service
        self.outbox_backlog = Gauge(
            "gecc_outbox_backlog",
            "Events stored in the outbox and not yet published to Kafka.",
            ["service"],
            registry=registry,
        ).labels(service)
        self.outbox_oldest_age = Gauge(
            "gecc_outbox_oldest_age_seconds",
            "Age of the oldest unpublished outbox event (0 when the outbox is empty).",
            ["service"],
            registry=registry,
        ).labels(service)
        self.outbox_published = Counter(
            "gecc_outbox_published_total",
            "Events the outbox relay published to Kafka.",
            ["service", "topic"],
            registry=registry,
        )
        self.events_consumed = Counter(
            "gecc_events_consumed_total",
            "Events consumed, by outcome: processed, duplicate, retried, dead_lettered.",
            ["service", "topic", "outcome"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "gecc_dead_letters_total",
            "Events sent to this service's dead-letter topic, by original topic and reason.",
            ["service", "topic", "reason"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "gecc_consumer_lag",
            "Messages in each partition this service consumes that it has not taken yet"
            " (the partition's end offset minus the consumer's position).",
            ["service", "topic", "partition"],
            registry=registry,
        )

    def consumed(self, topic: str, outcome: str) -> None:
        self.events_consumed.labels(self.service, topic, outcome).inc()
