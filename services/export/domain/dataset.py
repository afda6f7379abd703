"""A round's dataset for OPS/PMO: one record per certified center, also those that never sent."""

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, Literal, TypedDict
from uuid import UUID

from services.export.domain.evidence import EvidenceEntry, entry

Status = Literal["on_time", "late", "missing"]
STATUSES: tuple[Status, ...] = ("on_time", "late", "missing")
VERDICTS = ("maintained", "at_risk", "not_maintained")
NO_VERDICT = "no_verdict"


class ReasonText(TypedDict):
    code: str
    text_th: str
    text_en: str


@dataclass(frozen=True)
class RegisteredCenter:
    id: str
    name_th: str
    name_en: str
    office_path: str
    province: str
    certified_until: date | None


@dataclass(frozen=True)
class LatestVersion:
    """A center's latest submission version in the round and that version's score, if any."""

    center_id: str
    submission_id: UUID
    version: int
    versions: int
    receipt_number: str
    received_at: datetime
    late: bool
    verdict: str | None
    satisfaction_percent: float | None
    checklist_percent: float | None
    reasons: list[dict[str, Any]]
    score_version: int | None
    scored_at: datetime | None
    evidence: list[dict[str, Any]] = field(default_factory=list)
    """The version's evidence files as stored (none from a version-1 event)."""
    satisfaction_source: str = "center_survey"
    """Where its satisfaction figures come from; ``survey_responses`` of a citizen survey."""
    survey_responses: int | None = None


@dataclass(frozen=True)
class ExportRecord:
    round_id: str
    center_id: str
    center_name_th: str
    center_name_en: str
    office_path: str
    province: str
    certified_until: date | None
    status: Status
    submission_id: UUID | None
    version: int | None
    amendments: int
    receipt_number: str | None
    received_at: datetime | None
    scored: bool
    verdict: str | None
    satisfaction_percent: float | None
    satisfaction_source: str | None
    survey_responses: int | None
    checklist_percent: float | None
    reasons: tuple[ReasonText, ...]
    score_version: int | None
    scored_at: datetime | None
    evidence: tuple[EvidenceEntry, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """Field order kept; dates ISO, times ISO in UTC with ``Z``, UUID as text."""
        return {f: _json_value(getattr(self, f)) for f in FIELDS}


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ExportRecord))


def build_records(
    round_id: str, centers: Iterable[RegisteredCenter], latest: Iterable[LatestVersion]
) -> list[ExportRecord]:
    """One record per center of the registry, sorted by center id; ``missing`` without a version.

    A version whose center is no longer in the registry still gets a record (names empty):
    a center removed from the registry after it reported must not vanish from the export,
    or the PMO system would lose a report it was already sent and counts would not add up.
    """
    by_center = {v.center_id: v for v in latest}
    registry = {c.id: c for c in centers}
    ids = sorted(registry.keys() | by_center.keys())
    return [_record(round_id, i, registry.get(i), by_center.get(i)) for i in ids]


def _record(
    round_id: str, center_id: str, center: RegisteredCenter | None, v: LatestVersion | None
) -> ExportRecord:
    status: Status = "missing" if v is None else "late" if v.late else "on_time"
    return ExportRecord(
        round_id=round_id,
        center_id=center_id,
        center_name_th=center.name_th if center else "",
        center_name_en=center.name_en if center else "",
        office_path=center.office_path if center else "",
        province=center.province if center else "",
        certified_until=center.certified_until if center else None,
        status=status,
        submission_id=v.submission_id if v else None,
        version=v.version if v else None,
        amendments=max(v.versions, v.version) - 1 if v else 0,  # v3 alone: still 2 amendments
        receipt_number=v.receipt_number if v else None,
        received_at=v.received_at if v else None,
        scored=v is not None and v.verdict is not None,
        verdict=v.verdict if v else None,
        satisfaction_percent=_float(v.satisfaction_percent) if v else None,
        satisfaction_source=v.satisfaction_source if v else None,
        survey_responses=v.survey_responses if v else None,
        checklist_percent=_float(v.checklist_percent) if v else None,
        reasons=tuple(_reason(r) for r in v.reasons) if v else (),
        score_version=v.score_version if v else None,
        scored_at=v.scored_at if v else None,
        evidence=tuple(entry(e) for e in v.evidence) if v else (),
    )


def counts(records: Iterable[ExportRecord]) -> dict[str, int]:
    """Records by status, every status present, and ``total``."""
    by_status = Counter(r.status for r in records)
    result = {s: by_status[s] for s in STATUSES}
    return result | {"total": sum(result.values())}


def verdict_counts(records: Iterable[ExportRecord]) -> dict[str, int]:
    """Records by verdict, the known verdicts always present; ``no_verdict`` for the rest."""
    by_verdict = Counter(r.verdict or NO_VERDICT for r in records)
    known = {v: by_verdict.pop(v, 0) for v in (*VERDICTS, NO_VERDICT)}
    return known | dict(sorted(by_verdict.items()))


def fingerprint(record: ExportRecord) -> str:
    """SHA-256 of the record's canonical JSON: equal exactly when the content is equal."""
    return hashlib.sha256(canonical_json(record.to_json())).hexdigest()


def delta(previous: Mapping[str, str], records: Sequence[ExportRecord]) -> list[ExportRecord]:
    """The records whose fingerprint differs from ``previous`` (center id -> fingerprint)."""
    return [r for r in records if previous.get(r.center_id) != fingerprint(r)]


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode()


def utc_iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: times must carry their zone")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, tuple):
        return [dict(r) for r in value]
    return value


def _float(value: float | None) -> float | None:
    return None if value is None else float(value)  # numeric columns arrive as Decimal


def _reason(reason: Mapping[str, Any]) -> ReasonText:
    return ReasonText(
        code=str(reason.get("code", "")),
        text_th=str(reason.get("text_th", "")),
        text_en=str(reason.get("text_en", "")),
    )
