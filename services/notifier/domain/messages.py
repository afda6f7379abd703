"""The messages the notifier sends to people (spec §6), one template per kind.

Each builder is pure: plain inputs in, a ``Message`` out, with Thai first and English beneath,
dates in the Buddhist Era and Bangkok time, a machine-readable ``data`` for webhooks, and the
``dedupe_key`` under which the delivery ledger sends it at most once.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid5

from services.notifier.domain.rendering import VERDICT_LABELS, Kind, render
from services.notifier.domain.schedule import RoundSnapshot
from shared.events import SourceSummary, Verdict

# A result whose score does not say where its figures come from: the center's own survey.
OWN_SURVEY = SourceSummary()

DELIVERY_NAMESPACE = UUID("6f0c2d0e-8a51-4c1e-9d0a-3b7e5f1a2c44")


SENDING_PRIORITY = {Kind.SIGN_IN: 0, Kind.RECEIPT: 1, Kind.RESULT: 2}

# Kinds whose body carries a credential that works once (a sign-in link): the delivery ledger
# keeps the body only until the message is sent or given up on.
ONE_TIME = frozenset({Kind.SIGN_IN})

DedupeKey = tuple[str, str, str, int]
"""(recipient, what it is about, kind, sequence): what it is about is the round id, or the
sign-in request's id; sequence is the submission version for receipts and results, the days
before the deadline for reminders, 0 otherwise."""


@dataclass(frozen=True)
class Message:
    """``round_id`` is None for a message about no round (a sign-in link, which answers the
    request ``request_id``); ``expires_at``: not worth sending after that moment."""

    kind: Kind
    recipient: str
    subject: str
    body: str
    round_id: str | None
    sequence: int = 0
    submission_id: UUID | None = None
    version: int | None = None
    request_id: UUID | None = None
    expires_at: datetime | None = None
    data: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def dedupe_key(self) -> DedupeKey:
        about = self.round_id if self.round_id is not None else str(self.request_id)
        return (self.recipient, about, self.kind.value, self.sequence)

    @property
    def priority(self) -> int:
        """Lower goes first when messages wait to be sent: a sign-in link (a person waits
        for it) first, then a center's receipt (its report arrived), results, and last
        reminders and summaries, which a burst of reports must not hold back receipts for
        (docs/benchmarks.md)."""
        return SENDING_PRIORITY.get(self.kind, len(SENDING_PRIORITY))

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    @property
    def delivery_id(self) -> str:
        """The same for every (re)send of this message: idempotency key and Message-ID."""
        return str(uuid5(DELIVERY_NAMESPACE, "\x1f".join(map(str, self.dedupe_key))))


@dataclass(frozen=True)
class CenterContact:
    """A center as one recipient: ``address`` is an e-mail address or a webhook URL."""

    id: str
    name_th: str
    name_en: str
    address: str


@dataclass(frozen=True)
class CenterRef:
    id: str
    name_th: str


@dataclass(frozen=True)
class Flagged:
    center: CenterRef
    verdict: Verdict


@dataclass(frozen=True)
class OfficeTotals:
    office_path: str
    centers: int
    submitted: int
    late: int = 0
    at_risk: int = 0
    not_maintained: int = 0

    @property
    def missing(self) -> int:
        return self.centers - self.submitted


def receipt(
    center: CenterContact,
    round_: RoundSnapshot,
    *,
    submission_id: UUID,
    receipt_number: str,
    version: int,
    received_at: datetime,
    late: bool,
    source: SourceSummary = OWN_SURVEY,
) -> Message:
    """The center's receipt, with where its satisfaction figures come from (spec §11)."""
    subject, body = render(
        Kind.RECEIPT,
        center=center,
        round=round_,
        round_id=round_.id,
        receipt_number=receipt_number,
        version=version,
        received_at=received_at,
        late=late,
        source=source,
    )
    return Message(
        Kind.RECEIPT,
        center.address,
        subject,
        body,
        round_.id,
        sequence=version,
        submission_id=submission_id,
        version=version,
        data={
            "center_id": center.id,
            "submission_id": str(submission_id),
            "version": version,
            "receipt_number": receipt_number,
            "received_at": received_at.isoformat(),
            "late": late,
            "satisfaction_source": source.model_dump(mode="json"),
        },
    )


def result(
    center: CenterContact,
    *,
    round_id: str,
    submission_id: UUID,
    version: int,
    verdict: Verdict,
    satisfaction_percent: float,
    checklist_percent: float,
    reasons: Sequence[tuple[str, str]],
    source: SourceSummary = OWN_SURVEY,
) -> Message:
    """The center's result, with where its satisfaction figures come from (spec §11)."""
    verdict_th, verdict_en = VERDICT_LABELS[verdict]
    subject, body = render(
        Kind.RESULT,
        center=center,
        round_id=round_id,
        version=version,
        verdict_th=verdict_th,
        verdict_en=verdict_en,
        satisfaction_percent=satisfaction_percent,
        checklist_percent=checklist_percent,
        reasons=list(reasons),
        source=source,
    )
    return Message(
        Kind.RESULT,
        center.address,
        subject,
        body,
        round_id,
        sequence=version,
        submission_id=submission_id,
        version=version,
        data={
            "center_id": center.id,
            "submission_id": str(submission_id),
            "version": version,
            "verdict": verdict,
            "satisfaction_percent": satisfaction_percent,
            "checklist_percent": checklist_percent,
            "reasons": [{"text_th": th, "text_en": en} for th, en in reasons],
            "satisfaction_source": source.model_dump(mode="json"),
        },
    )


def reminder(center: CenterContact, round_: RoundSnapshot, days_before: int) -> Message:
    subject, body = render(Kind.REMINDER, center=center, round=round_, days_before=days_before)
    return Message(
        Kind.REMINDER,
        center.address,
        subject,
        body,
        round_.id,
        sequence=days_before,
        data={
            "center_id": center.id,
            "due_at": round_.due_at.isoformat(),
            "days_before": days_before,
        },
    )


def overdue(center: CenterContact, round_: RoundSnapshot) -> Message:
    subject, body = render(Kind.OVERDUE, center=center, round=round_)
    return Message(
        Kind.OVERDUE,
        center.address,
        subject,
        body,
        round_.id,
        data={
            "center_id": center.id,
            "due_at": round_.due_at.isoformat(),
            "closes_at": round_.closes_at.isoformat(),
        },
    )


def office_summary(
    office_path: str,
    recipient: str,
    round_: RoundSnapshot,
    *,
    total: int,
    missing: Sequence[CenterRef],
    late: Sequence[CenterRef],
    at_risk: Sequence[Flagged],
) -> Message:
    """``total`` centers under the office; ``at_risk``: those whose verdict is not passing."""
    submitted = total - len(missing)
    subject, body = render(
        Kind.OFFICE_SUMMARY,
        office_path=office_path,
        round=round_,
        total=total,
        submitted=submitted,
        missing=list(missing),
        late=list(late),
        at_risk=list(at_risk),
    )
    return Message(
        Kind.OFFICE_SUMMARY,
        recipient,
        subject,
        body,
        round_.id,
        data={
            "office_path": office_path,
            "centers": total,
            "submitted": submitted,
            "missing": [c.id for c in missing],
            "late": [c.id for c in late],
            "at_risk": [{"center_id": f.center.id, "verdict": f.verdict} for f in at_risk],
        },
    )


def operator_summary(
    recipient: str, round_: RoundSnapshot, totals: Sequence[OfficeTotals]
) -> Message:
    overall = OfficeTotals(
        office_path="",
        centers=sum(t.centers for t in totals),
        submitted=sum(t.submitted for t in totals),
        late=sum(t.late for t in totals),
        at_risk=sum(t.at_risk for t in totals),
        not_maintained=sum(t.not_maintained for t in totals),
    )
    subject, body = render(Kind.OPERATOR_SUMMARY, round=round_, totals=list(totals), sum=overall)
    return Message(
        Kind.OPERATOR_SUMMARY,
        recipient,
        subject,
        body,
        round_.id,
        data={
            "offices": [
                {
                    "office_path": t.office_path,
                    "centers": t.centers,
                    "submitted": t.submitted,
                    "missing": t.missing,
                    "late": t.late,
                    "at_risk": t.at_risk,
                    "not_maintained": t.not_maintained,
                }
                for t in totals
            ]
        },
    )


def sign_in_link(
    *, request_id: UUID, email: str, code: str, expires_at: datetime, portal_url: str
) -> Message:
    """The one-time link a person asked for: ``<portal>/sign-in/<code>``, sent to the address
    they gave. ``data`` leaves the code out: the ledger keeps it only in the body (``ONE_TIME``)."""
    link = f"{portal_url.rstrip('/')}/sign-in/{quote(code, safe='')}"
    subject, body = render(Kind.SIGN_IN, link=link, expires_at=expires_at)
    return Message(
        Kind.SIGN_IN,
        email,
        subject,
        body,
        None,
        request_id=request_id,
        expires_at=expires_at,
        data={"request_id": str(request_id), "expires_at": expires_at.isoformat()},
    )
