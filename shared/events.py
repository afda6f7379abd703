"""Event contracts (spec §5): one envelope; the four events of the design, plus the round
schedule and the center registry that intake shares with the other services; each event
with a schema version.

Producers build events with ``new_event``; consumers parse with ``Envelope[Data]``. Data models
ignore fields they do not know, so a producer may add optional fields without breaking older
consumers; anything else is a new ``schema_version`` (and a new topic suffix).
"""

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import ClassVar, Generic, Literal, TypeVar, cast
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from shared.submission import Checklist, Satisfaction, SatisfactionSource, SourceKind

Verdict = Literal["maintained", "at_risk", "not_maintained"]


class EventType(StrEnum):
    SUBMISSION_RECEIVED = "submission.received"
    SUBMISSION_SCORED = "submission.scored"
    DEADLINE_NEAR = "round.deadline_near"
    ROUND_CLOSED = "round.closed"
    ROUND_SCHEDULED = "round.scheduled"
    CENTER_REGISTERED = "center.registered"
    EXPORT_REQUESTED = "export.requested"
    EXPORT_STATUS = "export.status"
    SIGN_IN_REQUESTED = "account.sign_in_requested"
    SURVEY_RESPONSE = "survey.response"
    SURVEY_TALLY = "survey.tally"


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: ClassVar[EventType]
    schema_version: ClassVar[int] = 1


class EvidenceFile(BaseModel):
    """A file a submission version references as evidence for a checklist item (spec §10),
    as intake stored it: its bytes are in object storage under its SHA-256."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    file_id: UUID
    item_code: str
    name: str
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class SubmissionReceived(EventData):
    """A center's submission version was accepted and stored by intake. Key: center id.

    Schema version 2 added ``evidence`` (the files the version references, with what the
    export lists of them); a version-1 event has none and parses with ``evidence`` empty.
    Schema version 3 added ``satisfaction.source`` (where the figures come from, spec §11),
    always present; a version-1 or -2 event has none and parses as the center's own survey."""

    event_type: ClassVar[EventType] = EventType.SUBMISSION_RECEIVED
    schema_version: ClassVar[int] = 3
    submission_id: UUID
    version: int = Field(ge=1)
    receipt_number: str
    center_id: str
    round_id: str
    received_at: datetime
    late: bool
    satisfaction: Satisfaction
    checklist: Checklist
    evidence: list[EvidenceFile] = Field(default_factory=list)


class Reason(BaseModel):
    """Why a verdict is what it is: a machine code with its figures, and text for people."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    code: str
    detail: dict[str, float | int | str] = Field(default_factory=dict)
    text_th: str = ""
    text_en: str = ""


class PreviousResult(BaseModel):
    """The same center's latest result in the round before this one."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    round_id: str
    verdict: Verdict
    satisfaction_percent: float
    checklist_percent: float


Change = Literal["first_result", "improved", "unchanged", "worsened"]


class SatisfactionScore(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    overall_percent: float
    respondents: int
    questions: dict[str, float]


class ChecklistScore(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    overall_percent: float
    areas: dict[str, float]
    unmet_mandatory: list[str]


class SourceSummary(BaseModel):
    """Where a score's satisfaction figures come from: the center's own survey, or the
    citizen survey with its number of responses."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: SourceKind = "center_survey"
    responses: int | None = None

    @classmethod
    def of(cls, source: SatisfactionSource) -> "SourceSummary":
        return cls(kind=source.kind, responses=source.responses)


class SubmissionScored(EventData):
    """A submission version was scored against its standard. Key: center id.
    ``satisfaction_source`` came later (optional: absent from older events, which were all
    of the center's own survey)."""

    event_type: ClassVar[EventType] = EventType.SUBMISSION_SCORED
    submission_id: UUID
    version: int = Field(ge=1)
    center_id: str
    round_id: str
    standard: str
    standard_version: int
    scored_at: datetime
    satisfaction: SatisfactionScore
    checklist: ChecklistScore
    verdict: Verdict
    reasons: list[Reason]
    score_version: int = Field(default=1, ge=1)
    """1 for the first scoring; higher when an operator re-scored after a corrected standard."""
    previous: PreviousResult | None = None
    change: Change = "first_result"
    satisfaction_change: float | None = None
    checklist_change: float | None = None
    satisfaction_source: SourceSummary = SourceSummary()


class DeadlineNear(EventData):
    """A round's due date is ``days_before`` days away. Key: round id."""

    event_type: ClassVar[EventType] = EventType.DEADLINE_NEAR
    round_id: str
    due_at: datetime
    days_before: int


class RoundClosed(EventData):
    """A round passed its closing time; no submission is accepted any more. Key: round id."""

    event_type: ClassVar[EventType] = EventType.ROUND_CLOSED
    round_id: str
    closes_at: datetime


class RoundScheduled(EventData):
    """A round and its dates as they now stand: published by intake for a new round, when an
    operator moves its dates, and again at every intake start. Key: round id; the topic is
    compacted, so its latest event per round is the round's current schedule."""

    event_type: ClassVar[EventType] = EventType.ROUND_SCHEDULED
    round_id: str
    kind: Literal["H1", "FY"]
    fiscal_year: int
    period_start: date
    period_end: date
    opens_at: datetime
    due_at: datetime
    closes_at: datetime


class CenterRegistered(EventData):
    """A certified center as the registry now has it (new, or changed by a re-import).
    Key: center id; compacted like ``RoundScheduled``."""

    event_type: ClassVar[EventType] = EventType.CENTER_REGISTERED
    center_id: str
    name_th: str
    name_en: str = ""
    office_path: str
    province: str = ""
    contact_emails: list[str] = Field(default_factory=list)
    certified_until: date | None = None


ExportState = Literal["pending", "delivering", "reconciled", "mismatch", "failed"]


class ExportRequested(EventData):
    """An operator asked for a round's export now (``POST /v1/rounds/{id}/exports`` on
    intake). Key: round id."""

    event_type: ClassVar[EventType] = EventType.EXPORT_REQUESTED
    request_id: UUID
    round_id: str
    requested_by: str
    requested_at: datetime


class ExportStatus(EventData):
    """Where an export stands, published by the export service at each change; intake shows
    it at ``GET /v1/rounds/{id}/exports``. Key: export id (compacted: the latest counts)."""

    event_type: ClassVar[EventType] = EventType.EXPORT_STATUS
    export_id: UUID
    round_id: str
    kind: Literal["full", "delta"]
    trigger: Literal["round_closed", "operator", "correction"]
    request_id: UUID | None = None
    state: ExportState
    records: int = 0
    batches: int = 0
    batches_acknowledged: int = 0
    attempts: int = 0
    last_error: str | None = None
    counts: dict[str, int] = Field(default_factory=dict)
    acknowledged: dict[str, int] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


DataT = TypeVar("DataT", bound=EventData)


class Envelope(BaseModel, Generic[DataT]):
    model_config = ConfigDict(extra="ignore", frozen=True)
    event_id: UUID
    event_type: EventType
    occurred_at: datetime
    producer: str
    schema_version: int
    data: DataT


def new_event(data: DataT, producer: str, occurred_at: datetime | None = None) -> Envelope[DataT]:
    # Parametrized by the concrete data class so serialization keeps all of its fields.
    model = cast(type[Envelope[DataT]], Envelope[type(data)])  # type: ignore[misc]
    return model(
        event_id=uuid4(),
        event_type=data.event_type,
        occurred_at=occurred_at or datetime.now(UTC),
        producer=producer,
        schema_version=data.schema_version,
        data=data,
    )


class SignInRequested(EventData):
    """A person asked to sign in to the portal with the address of an enabled account: the
    notifier sends them the one-time link (first of every kind of message). Key: the
    address. The code is what the link carries; only its hash is stored, it is valid until
    ``expires_at`` and once, and the topic keeps the event an hour."""

    event_type: ClassVar[EventType] = EventType.SIGN_IN_REQUESTED
    request_id: UUID
    email: str
    code: str
    expires_at: datetime
    locale: Literal["th", "en"] = "th"


class SurveyResponse(EventData):
    """One citizen's answers to a center's survey (spec §11), accepted by the survey service's
    public page. Key: center id. The envelope's ``event_id`` is
    ``uuid5(SURVEY_NAMESPACE, f"{device}/{center_id}/{bangkok_date}")``: the same device
    answering the same center twice a day is one event, so the tallier counts it once.
    ``ratings`` maps each question code of the standard to 1..5. ``round_ids`` are the rounds
    whose period contains the day it was given (Bangkok date of ``answered_at``): the ``H1``
    and the ``FY`` round from October to March, the ``FY`` round from April to September; the
    tallier counts the response in each."""

    event_type: ClassVar[EventType] = EventType.SURVEY_RESPONSE
    center_id: str
    round_ids: list[str] = Field(min_length=1)
    standard: str
    ratings: dict[str, int]
    answered_at: datetime


# The namespace of the survey responses' event ids (``SurveyResponse``): fixed forever.
SURVEY_NAMESPACE = UUID("6f1c3a52-7d0e-5b8a-9c4e-2a61f0d8b317")


class SurveyTally(EventData):
    """A center's citizen survey in a round as the tallier now has it: for each question the
    respondents of each rating 1..5 (``counts[code][i]`` gave rating i+1), ``responses`` in all
    and the time of the latest one counted. Key: ``{center_id}/{round_id}``; the topic is
    compacted, so its latest event per key is the current tally. ``revision`` grows by one
    each time the tally changes (a consumer keeps the highest it saw)."""

    event_type: ClassVar[EventType] = EventType.SURVEY_TALLY
    center_id: str
    round_id: str
    standard: str
    responses: int = Field(ge=0)
    counts: dict[str, list[int]]
    revision: int = Field(ge=1)
    last_response_at: datetime
    tallied_at: datetime
