"""Accepting a citizen's answers: checked against the visit token, the day's rounds and the
standard's questions, then produced to Kafka; never the database."""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache

from services.survey.adapters.producer import KafkaUnavailable, ResponseProducer
from services.survey.domain.directory import Center, Directory, bangkok_day
from services.survey.domain.responses import answers_of, event_id_text
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


@lru_cache(maxsize=4096)
def _record_head(producer: str, center_id: str, rounds: tuple[str, ...], standard: str) -> str:
    """What every record of a center on a day's rounds shares, as JSON text."""
    center, names = json.dumps(center_id, ensure_ascii=False), json.dumps(list(rounds))
    return (
        f'"event_type":"{EventType.SURVEY_RESPONSE.value}","producer":{json.dumps(producer)},'
        f'"schema_version":{SurveyResponse.schema_version},"data":{{"center_id":{center},'
        f'"round_ids":{names},"standard":{json.dumps(standard)},'
    )


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
        answered_at: datetime,
    ) -> Result:
        """``now``: real seconds (the token's time); ``answered_at``: on the services' clock
        (its Bangkok day decides the rounds)."""
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
        day = bangkok_day(answered_at)
        rounds = self.directory.rounds_on(day)
        if not rounds:
            return Result(Outcome.NO_ROUND, answers.ratings)
        if not self.used.use(visit, now):
            return Result(Outcome.TOKEN_USED, answers.ratings)
        record = self.record(center.center_id, device, rounds, answers.ratings, answered_at, day)
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
        day: date | None = None,
    ) -> bytes:
        """The ``Envelope[SurveyResponse]`` as JSON, written directly (the hot path): codes
        are the standard's, ratings 1..5, the rest escaped once per center and rounds."""
        moment = answered_at.isoformat()
        when = (day or bangkok_day(answered_at)).isoformat()
        head = _record_head(self.producer_name, center_id, tuple(rounds), self.standard)
        answers = ",".join(f'"{code}":{value}' for code, value in ratings.items())
        return (
            f'{{"event_id":"{event_id_text(device, center_id, when)}","occurred_at":"{moment}",'
            f'{head}"ratings":{{{answers}}},"answered_at":"{moment}"}}}}'
        ).encode()
