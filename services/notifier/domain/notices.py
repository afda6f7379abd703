"""Who gets which message when: the reminders, overdue notices and close summaries of a
round moment, and the receipt and result of a submission version, for every address a
recipient has (e-mail and webhook alike)."""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from services.notifier.domain import messages
from services.notifier.domain.messages import (
    OWN_SURVEY,
    CenterContact,
    CenterRef,
    Flagged,
    Message,
)
from services.notifier.domain.schedule import RoundSnapshot
from shared.events import SourceSummary, Verdict

Channel = Literal["email", "webhook"]
FOLLOW_UP: frozenset[Verdict] = frozenset({"at_risk", "not_maintained"})


@dataclass(frozen=True)
class Address:
    channel: Channel
    address: str


@dataclass(frozen=True)
class Outgoing:
    channel: Channel
    message: Message


@dataclass(frozen=True)
class CenterState:
    """A center in a round as the notifier knows it from its own copies."""

    id: str
    name_th: str
    name_en: str
    office_path: str
    addresses: tuple[Address, ...]
    submitted: bool = False
    late: bool = False
    verdict: Verdict | None = None


def _to_center(center: CenterState, address: Address) -> CenterContact:
    return CenterContact(center.id, center.name_th, center.name_en, address.address)


def reminders(
    round_: RoundSnapshot, days_before: int, centers: Iterable[CenterState]
) -> list[Outgoing]:
    """To the centers that have NOT submitted for the round, and only to them."""
    return [
        Outgoing(a.channel, messages.reminder(_to_center(c, a), round_, days_before))
        for c in centers
        if not c.submitted
        for a in c.addresses
    ]


def overdue_notices(round_: RoundSnapshot, centers: Iterable[CenterState]) -> list[Outgoing]:
    return [
        Outgoing(a.channel, messages.overdue(_to_center(c, a), round_))
        for c in centers
        if not c.submitted
        for a in c.addresses
    ]


def close_summaries(
    round_: RoundSnapshot,
    centers: Iterable[CenterState],
    offices: Mapping[str, Sequence[Address]],
    operators: Sequence[Address],
) -> list[Outgoing]:
    """Each parent office with a recipient hears about its own centers; the operators get
    the totals of every office."""
    by_office: dict[str, list[CenterState]] = defaultdict(list)
    for center in centers:
        by_office[center.office_path].append(center)
    outgoing: list[Outgoing] = []
    totals: list[messages.OfficeTotals] = []
    for office_path in sorted(by_office):
        members = sorted(by_office[office_path], key=lambda c: c.id)
        missing = [CenterRef(c.id, c.name_th) for c in members if not c.submitted]
        late = [CenterRef(c.id, c.name_th) for c in members if c.submitted and c.late]
        flagged = [
            Flagged(CenterRef(c.id, c.name_th), c.verdict)
            for c in members
            if c.verdict is not None and c.verdict in FOLLOW_UP
        ]
        for address in offices.get(office_path, ()):
            summary = messages.office_summary(
                office_path,
                address.address,
                round_,
                total=len(members),
                missing=missing,
                late=late,
                at_risk=flagged,
            )
            outgoing.append(Outgoing(address.channel, summary))
        totals.append(
            messages.OfficeTotals(
                office_path=office_path,
                centers=len(members),
                submitted=len(members) - len(missing),
                late=len(late),
                at_risk=sum(1 for f in flagged if f.verdict == "at_risk"),
                not_maintained=sum(1 for f in flagged if f.verdict == "not_maintained"),
            )
        )
    outgoing.extend(
        Outgoing(a.channel, messages.operator_summary(a.address, round_, totals)) for a in operators
    )
    return outgoing


def receipts(
    center: CenterState,
    round_: RoundSnapshot,
    *,
    submission_id: UUID,
    receipt_number: str,
    version: int,
    received_at: datetime,
    late: bool,
    source: SourceSummary = OWN_SURVEY,
) -> list[Outgoing]:
    return [
        Outgoing(
            a.channel,
            messages.receipt(
                _to_center(center, a),
                round_,
                submission_id=submission_id,
                receipt_number=receipt_number,
                version=version,
                received_at=received_at,
                late=late,
                source=source,
            ),
        )
        for a in center.addresses
    ]


def results(
    center: CenterState,
    *,
    round_id: str,
    submission_id: UUID,
    version: int,
    verdict: Verdict,
    satisfaction_percent: float,
    checklist_percent: float,
    reasons: Sequence[tuple[str, str]],
    source: SourceSummary = OWN_SURVEY,
) -> list[Outgoing]:
    return [
        Outgoing(
            a.channel,
            messages.result(
                _to_center(center, a),
                round_id=round_id,
                submission_id=submission_id,
                version=version,
                verdict=verdict,
                satisfaction_percent=satisfaction_percent,
                checklist_percent=checklist_percent,
                reasons=reasons,
                source=source,
            ),
        )
        for a in center.addresses
    ]
