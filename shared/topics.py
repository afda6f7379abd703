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


# Submission events are keyed by center id: more partitions let consumers scale out while
# a center's events stay in order. Round events are few and keyed by round id.
PARTITIONS: dict[Topic, int] = {
    Topic.SUBMISSION_RECEIVED: 6,
    Topic.SUBMISSION_SCORED: 6,
    Topic.DEADLINE_NEAR: 1,
    Topic.ROUND_CLOSED: 1,
}

DEAD_LETTER_PARTITIONS = 1
SERVICES = ("intake", "scoring", "notifier", "export")


@dataclass(frozen=True)
class TopicNames:
    namespace: str = ""

    def __call__(self, topic: Topic) -> str:
        return f"{self.namespace}{topic.value}"

    def dead_letter(self, service: str) -> str:
        return f"{self.namespace}gecc.dead-letter.{service}.v1"

    def all_with_partitions(self) -> dict[str, int]:
        """Every topic the system uses, with its partition count, for creating them up front."""
        names = {self(topic): count for topic, count in PARTITIONS.items()}
        names.update({self.dead_letter(s): DEAD_LETTER_PARTITIONS for s in SERVICES})
        return names
