"""A center's rounds as its staff see them: the dates, the days left, and where the center
stands in each (not started, draft, submitted on time or late, scored with a verdict)."""

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

Window = Literal["not_open", "open", "late", "closed"]
Status = Literal["not_started", "draft", "submitted_on_time", "submitted_late", "scored"]


@dataclass(frozen=True)
class CenterRound:
    """One round with the center's state in it, as intake's
    ``GET /v1/centers/{id}/rounds`` gives it, and whether the portal holds a draft."""

    round_id: str
    period_start: date
    period_end: date
    opens_at: datetime
    due_at: datetime
    closes_at: datetime
    submission_id: UUID | None
    latest_version: int | None
    receipt_number: str | None
    late: bool | None
    verdict: str | None
    extension_until: datetime | None
    has_draft: bool
    # where the latest version's satisfaction figures come from (citizen_survey with its
    # responses, or center_survey); None before a report
    satisfaction_source: str | None = None
    survey_responses: int | None = None

    @classmethod
    def of(cls, entry: dict[str, Any], has_draft: bool) -> "CenterRound":
        round_ = entry["round"]
        submission = entry.get("submission_id")
        extension = entry.get("extension_until")
        return cls(
            round_id=round_["id"],
            period_start=date.fromisoformat(round_["period_start"]),
            period_end=date.fromisoformat(round_["period_end"]),
            opens_at=datetime.fromisoformat(round_["opens_at"]),
            due_at=datetime.fromisoformat(round_["due_at"]),
            closes_at=datetime.fromisoformat(round_["closes_at"]),
            submission_id=UUID(submission) if submission else None,
            latest_version=entry.get("latest_version"),
            receipt_number=entry.get("receipt_number"),
            late=entry.get("late"),
            verdict=entry.get("verdict"),
            extension_until=datetime.fromisoformat(extension) if extension else None,
            has_draft=has_draft,
            satisfaction_source=entry.get("satisfaction_source"),
            survey_responses=entry.get("survey_responses"),
        )

    def window(self, now: datetime) -> Window:
        if now < self.opens_at:
            return "not_open"
        if now <= self.due_at:
            return "open"
        if now <= self.closes_at:
            return "late"
        if self.extension_until is not None and now <= self.extension_until:
            return "late"
        return "closed"

    def status(self) -> Status:
        if self.submission_id is None:
            return "draft" if self.has_draft else "not_started"
        if self.verdict is not None:
            return "scored"
        return "submitted_late" if self.late else "submitted_on_time"

    def days_left(self, now: datetime) -> int | None:
        """Whole days until the due time (1 on its last day); None once it has passed."""
        seconds = (self.due_at - now).total_seconds()
        return math.ceil(seconds / 86400) if seconds > 0 else None

    def can_report(self, now: datetime) -> bool:
        return self.window(now) in ("open", "late")

    @property
    def kind(self) -> str:
        """``H1`` (the 6-month round) or ``FY`` (the 12-month round)."""
        return self.round_id.rsplit("-", 1)[1]

    @property
    def fiscal_year(self) -> str:
        """The Buddhist-Era fiscal year of ``FY2570-H1``: ``2570``."""
        return self.round_id[2:6]
