from prometheus_client import CollectorRegistry, Counter, Histogram


class PortalMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pages = Histogram(
            "gecc_portal_page_seconds",
            "Seconds to answer a page or form, by route and status class (2xx, 3xx, 4xx, 5xx).",
            ["route", "status"],
            registry=registry,
        )
        self.sign_ins = Counter(
            "gecc_portal_sign_ins",
            "Sign-in steps by outcome: requested (a link was asked for), throttled (too many"
            " from one address), signed_in (a link opened a session), link_refused (used,"
            " expired or unknown), signed_out.",
            ["outcome"],
            registry=registry,
        )
        self.submissions = Counter(
            "gecc_portal_submissions",
            "Reports submitted through the portal, by outcome: accepted, replayed (the same"
            " form again), refused.",
            ["outcome"],
            registry=registry,
        )
        self.kept_forms = Counter(
            "gecc_portal_kept_forms",
            "Forms posted after their session or token expired: kept, restored.",
            ["outcome"],
            registry=registry,
        )
        self.survey_reads = Counter(
            "gecc_portal_survey_reads",
            "Reads of the survey service (tallies, posters) by outcome: ok, none (no tally"
            " yet), unavailable (the page shows the tally as not available now).",
            ["what", "outcome"],
            registry=registry,
        )
