"""Sample submissions that fit the shipped standard, for tests."""

import hashlib
import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from services.scoring.domain.scoring import judge, sample_of, score_checklist, score_satisfaction
from shared.events import (
    Envelope,
    EvidenceFile,
    SourceSummary,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.standards import Standard, default_standards_dir, load_catalog
from shared.submission import SubmissionBody

STANDARD_ID = "gecc-maintenance-2570"


def standard() -> Standard:
    found = load_catalog(default_standards_dir()).get(STANDARD_ID)
    assert found is not None
    return found


def citizen_survey(responses: int = 412, revision: int = 57) -> dict[str, Any]:
    """A ``satisfaction.source`` taken from the citizen survey's tally."""
    return {
        "kind": "citizen_survey",
        "responses": responses,
        "revision": revision,
        "tallied_at": "2027-04-02T02:13:00Z",
    }


def submission_body(
    round_id: str = "FY2570-H1",
    respondents: int = 412,
    counts: list[int] | None = None,
    unmet: tuple[str, ...] = (),
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    s = standard()
    satisfaction: dict[str, Any] = {
        "respondents": respondents,
        "questions": [
            {"code": q.code, "counts": counts or [1, 3, 20, 150, 238]} for q in s.questions
        ],
    }
    if source is not None:
        satisfaction["source"] = source
    return {
        "round_id": round_id,
        "satisfaction": satisfaction,
        "checklist": {
            "standard": s.id,
            "items": [
                {"code": i.code, "met": i.code not in unmet, "evidence": "ภาพถ่ายจุดบริการ"}
                for i in s.items
            ],
        },
    }


def received_event(
    center_id: str = "GECC-0001", version: int = 1, **body: Any
) -> Envelope[SubmissionReceived]:
    parsed = SubmissionBody.model_validate(submission_body(**body))
    return new_event(
        SubmissionReceived(
            submission_id=uuid4(),
            version=version,
            receipt_number=f"{parsed.round_id}/{center_id}/v{version}",
            center_id=center_id,
            round_id=parsed.round_id,
            received_at=datetime.now(UTC),
            late=False,
            satisfaction=parsed.satisfaction,
            checklist=parsed.checklist,
        ),
        producer="test",
    )


def scored_event(received: SubmissionReceived) -> SubmissionScored:
    """The scorer's result for ``received`` (its domain's scoring of the sample standard)."""
    satisfaction = score_satisfaction(received.satisfaction)
    checklist = score_checklist(standard(), received.checklist)
    verdict, reasons = judge(standard(), satisfaction, checklist, sample_of(received.satisfaction))
    return SubmissionScored(
        submission_id=received.submission_id,
        version=received.version,
        center_id=received.center_id,
        round_id=received.round_id,
        standard=standard().id,
        standard_version=standard().version,
        scored_at=datetime.now(UTC),
        satisfaction=satisfaction,
        checklist=checklist,
        verdict=verdict,
        reasons=reasons,
        satisfaction_source=SourceSummary(
            kind=received.satisfaction.source.kind,
            responses=received.satisfaction.source.responses,
        ),
    )


def with_evidence(event: Envelope[SubmissionReceived]) -> Envelope[SubmissionReceived]:
    """``event`` as intake sends it now (schema version 3) with two files as evidence."""
    files = [
        EvidenceFile(
            file_id=uuid4(),
            item_code=item.code,
            name=name,
            content_type=content_type,
            size=1234,
            sha256=hashlib.sha256(name.encode()).hexdigest(),
        )
        for item, (name, content_type) in zip(
            event.data.checklist.items,
            [("ภาพจุดบริการ.jpg", "image/jpeg"), ("minutes.pdf", "application/pdf")],
            strict=False,
        )
    ]
    return event.model_copy(update={"data": event.data.model_copy(update={"evidence": files})})


def as_version_1(event: Envelope[SubmissionReceived]) -> bytes:
    """``event`` as intake sent it before evidence files: schema version 1, no ``evidence``
    (nor ``satisfaction.source``)."""
    raw = json.loads(as_version_2(event))
    raw["schema_version"] = 1
    del raw["data"]["evidence"]
    return json.dumps(raw, ensure_ascii=False).encode()


def as_version_2(event: Envelope[SubmissionReceived]) -> bytes:
    """``event`` as intake sent it before the satisfaction's source: schema version 2."""
    raw = json.loads(event.model_dump_json())
    raw["schema_version"] = 2
    del raw["data"]["satisfaction"]["source"]
    return json.dumps(raw, ensure_ascii=False).encode()
