from prometheus_client import CollectorRegistry, Counter, Gauge


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.notifications = Counter(
            "gecc_notifications_total",
            "Messages by kind, channel and outcome: queued (new in the delivery ledger), sent,"
            " retried (a temporary failure, tried again later), dead_lettered (gave up),"
            " no_recipient (nobody to send it to), held (its center or round not known here"
            " yet: sent once they are).",
            ["kind", "channel", "outcome"],
            registry=registry,
        )
        self.clock_moments = Counter(
            "gecc_round_clock_moments_total",
            "Round clock moments by tick and outcome: fired here, or skipped (missed while"
            " down and superseded by a later one).",
            ["tick", "outcome"],
            registry=registry,
        )
        self.deliveries = Gauge(
            "gecc_notifications_in_ledger",
            "Deliveries in the ledger by kind and status (pending, sent, dead); 0 for none.",
            ["kind", "status"],
            registry=registry,
        )
        self.round_due = Gauge(
            "gecc_round_clock_due_timestamp_seconds",
            "Each round's due time as the round clock knows it (Unix seconds, shared clock).",
            ["round"],
            registry=registry,
        )
