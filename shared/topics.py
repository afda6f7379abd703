"""Kafka topic names and partition counts: the one place every service reads them from.

A deployment may set a namespace (``GECC_TOPIC_NAMESPACE``) so that several environments,
or a test run beside a developer's stack, share one broker without seeing each other.
"""

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    SUBMISSION_RECEIVED = "gecc.submission.received.v1"
    SUBMISSION_SCORED = "gecc.submission.scored.v1"
    DEADLINE_NEAR = "gecc.round.deadline-near.v1"
    ROUND_CLOSED = "gecc.round.closed.v1"
    ROUND_SCHEDULED = "gecc.round.scheduled.v1"
    CENTER_REGISTERED = "gecc.registry.center.v1"
    EXPORT_REQUESTED = "gecc.export.requested.v1"
    EXPORT_STATUS = "gecc.export.status.v1"
    SIGN_IN_REQUESTED = "gecc.account.sign-in-requested.v1"
    SURVEY_RESPONSE = "gecc.survey.response.v1"
    SURVEY_TALLY = "gecc.survey.tally.v1"


# Submission events are keyed by center id: more partitions let consumers scale out while
# a center's events stay in order. Round events are few and keyed by round id.
PARTITIONS: dict[Topic, int] = {
    Topic.SUBMISSION_RECEIVED: 6,
    Topic.SUBMISSION_SCORED: 6,
    Topic.DEADLINE_NEAR: 1,
    Topic.ROUND_CLOSED: 1,
    Topic.ROUND_SCHEDULED: 1,
    Topic.CENTER_REGISTERED: 3,
    Topic.EXPORT_REQUESTED: 1,
    Topic.EXPORT_STATUS: 1,
    Topic.SIGN_IN_REQUESTED: 3,
    # Citizens' answers are the busiest stream (every center, every working day): the
    # tallier scales out to as many processes as partitions.
    Topic.SURVEY_RESPONSE: 6,
    Topic.SURVEY_TALLY: 3,
}

# State topics: the latest event per key is the current state, so Kafka keeps at least that
# one forever (a new consumer reads the whole registry and calendar from the beginning).
COMPACTED = frozenset(
    {Topic.ROUND_SCHEDULED, Topic.CENTER_REGISTERED, Topic.EXPORT_STATUS, Topic.SURVEY_TALLY}
)

# Topics whose events must not outlive their use: a sign-in event carries a one-time code
# (valid 15 minutes), so Kafka drops it after an hour.
RETENTION_MS: dict[Topic, int] = {Topic.SIGN_IN_REQUESTED: 60 * 60 * 1000}

DEAD_LETTER_PARTITIONS = 1
SERVICES = ("intake", "scoring", "notifier", "export", "portal", "survey")
# The services that consume Kafka, each in its consumer group and with its dead-letter topic;
# the portal talks to intake over HTTP only.
CONSUMERS = ("intake", "scoring", "notifier", "export", "survey")


@dataclass(frozen=True)
class TopicNames:
    namespace: str = ""

    def __call__(self, topic: Topic) -> str:
        return f"{self.namespace}{topic.value}"

    def dead_letter(self, service: str) -> str:
        return f"{self.namespace}gecc.dead-letter.{service}.v1"

    def compacted(self) -> frozenset[str]:
        return frozenset(self(topic) for topic in COMPACTED)

    def configs(self) -> dict[str, dict[str, str]]:
        """Each topic's settings beyond the broker's defaults."""
        found: dict[str, dict[str, str]] = {}
        for topic in COMPACTED:
            found[self(topic)] = {"cleanup.policy": "compact"}
        for topic, milliseconds in RETENTION_MS.items():
            found[self(topic)] = {"retention.ms": str(milliseconds)}
        return found

    def all_with_partitions(self) -> dict[str, int]:
        """Every topic the system uses, with its partition count, for creating them up front."""
        names = {self(topic): count for topic, count in PARTITIONS.items()}
        names.update({self.dead_letter(s): DEAD_LETTER_PARTITIONS for s in CONSUMERS})
        return names
