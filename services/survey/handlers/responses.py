"""Accepting a citizen's answers: checked against the visit token, the day's rounds and the
standard's questions, then produced to Kafka; never the database."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from services.survey.adapters.producer import KafkaUnavailable, ResponseProducer
from services.survey.domain.directory import Center, Directory, bangkok_day
from services.survey.domain.responses import answers_of, event_id
from services.survey.domain.tokens import Check, UsedVisits, VisitTokens
from shared.clock import Clock
from shared.events import EventType, SurveyResponse


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    HONEYPOT = "honeypot"
    REPEAT_TODAY = "repeat_today"
    NO_ROUND = "no_round"
    TOKEN_INVALID = Check.INVALID.value
    TOKEN_EXPIRED = Check.EXPIRED.value
    TOKEN_USED = Check.USED.value
    INCOMPLETE = "incomplete"
    KAFKA_UNAVAILABLE = "kafka_unavailable"


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    ratings: dict[str, int] = field(default_factory=dict)
    missing: tuple[str, ...] = ()


@dataclass
class Desk:
    """What accepting a response needs, wired once by the app."""

    tokens: VisitTokens
    used: UsedVisits
    producer: ResponseProducer
    clock: Clock
    standard: str
    questions: tuple[str, ...]
    producer_name: str = "survey"
    directory: Directory = field(default_factory=Directory)

    def today(self) -> date:
        return bangkok_day(self.clock.now())

    async def accept(
        self,
        center: Center,
        device: str,
        form: Mapping[str, str],
        answered_today: bool,
        now: float,
    ) -> Result:
        """``now``: real seconds (the token's time); the day and ``answered_at`` are on the
        services' clock."""
        if form.get("website"):
            return Result(Outcome.HONEYPOT)
        answers = answers_of(form, self.questions)
        if answered_today:
            return Result(Outcome.REPEAT_TODAY, answers.ratings)
        check, visit = self.tokens.check(form.get("token", ""), center.center_id, device, now)
        if check is not Check.OK:
            return Result(Outcome(check.value), answers.ratings, answers.missing)
        if not answers.complete:
            return Result(Outcome.INCOMPLETE, answers.ratings, answers.missing)
        answered_at = self.clock.now()
        day = bangkok_day(answered_at)
        rounds = self.directory.rounds_on(day)
        if not rounds:
            return Result(Outcome.NO_ROUND, answers.ratings)
        if not self.used.use(visit, now):
            return Result(Outcome.TOKEN_USED, answers.ratings)
        record = self.record(center.center_id, device, rounds, answers.ratings, answered_at)
        try:
            await self.producer.send(center.center_id.encode(), record)
        except KafkaUnavailable:
            self.used.release(visit)
            return Result(Outcome.KAFKA_UNAVAILABLE, answers.ratings)
        return Result(Outcome.ACCEPTED, answers.ratings)

    def record(
        self,
        center_id: str,
        device: str,
        rounds: list[str],
        ratings: dict[str, int],
        answered_at: datetime,
    ) -> bytes:
        """The ``Envelope[SurveyResponse]`` as JSON (written directly: the hot path)."""
        moment = answered_at.isoformat()
        return json.dumps(
            {
                "event_id": str(event_id(device, center_id, bangkok_day(answered_at))),
                "event_type": EventType.SURVEY_RESPONSE.value,
                "occurred_at": moment,
                "producer": self.producer_name,
                "schema_version": SurveyResponse.schema_version,
                "data": {
                    "center_id": center_id,
                    "round_ids": rounds,
                    "standard": self.standard,
                    "ratings": ratings,
                    "answered_at": moment,
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
