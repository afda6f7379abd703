from prometheus_client import CollectorRegistry, Counter, Gauge


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.completeness = Gauge(
            "gecc_round_completeness_ratio",
            "Centers that submitted for the round ÷ centers in the registry (0..1).",
            ["round"],
            registry=registry,
        )
        self.submissions = Gauge(
            "gecc_round_submissions",
            "Centers of the registry by their state in the round: on_time, late, missing.",
            ["round", "state"],
            registry=registry,
        )
        self.seconds_to_due = Gauge(
            "gecc_round_seconds_to_due",
            "Seconds until the round's due time (negative after it), by the service clock.",
            ["round"],
            registry=registry,
        )
        self.auth_refusals = Counter(
            "gecc_auth_refusals",
            "Requests refused for their credentials, by reason: missing, malformed,"
            " duplicate (more than one Authorization header), unknown (no such token, or"
            " revoked), throttled (too many refused credentials from the client's address),"
            " rate_limited (the token's budget), forbidden (a token of the wrong kind).",
            ["reason"],
            registry=registry,
        )
