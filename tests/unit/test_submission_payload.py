"""The submission-received event's text, cut where intake's one-statement write puts the
submission id, version and receipt number it took (services.intake.adapters.submission_store)."""

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from services.intake.adapters.submission_store import payload_around_version
from shared.events import Envelope, SubmissionReceived, new_event
from shared.submission import SubmissionBody
from tests.support.samples import submission_body


def received_payload(submission_id: UUID, receipt_number: str) -> str:
    body = SubmissionBody.model_validate(submission_body())
    data = SubmissionReceived(
        submission_id=submission_id,
        version=1,
        receipt_number=receipt_number,
        center_id="C0001",
        round_id=body.round_id,
        received_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
        late=False,
        satisfaction=body.satisfaction,
        checklist=body.checklist,
    )
    return new_event(data, producer="intake").model_dump_json()


def as_written(head: str, submission_id: UUID, version: int, receipt_number: str, tail: str) -> str:
    """What the statement concatenates (to_json of the receipt number)."""
    return (
        f'{head}"submission_id":"{submission_id}","version":{version},"receipt_number":'
        f"{json.dumps(receipt_number, ensure_ascii=False)}{tail}"
    )


@pytest.mark.parametrize("prefix", ["FY2570-H1/C0001/v", 'ศูนย์ "ทดสอบ"\\/v'])
def test_the_parts_around_the_version_make_the_event_with_the_values_taken(prefix: str) -> None:
    new_id, taken_id = uuid4(), uuid4()
    payload = received_payload(new_id, f"{prefix}1")
    head, tail = payload_around_version(payload, new_id, f"{prefix}1")

    assert as_written(head, new_id, 1, f"{prefix}1", tail) == payload
    event = Envelope[SubmissionReceived].model_validate_json(
        as_written(head, taken_id, 7, f"{prefix}7", tail)
    )
    assert (event.data.submission_id, event.data.version) == (taken_id, 7)
    assert event.data.receipt_number == f"{prefix}7"
    assert event.data.checklist == SubmissionBody.model_validate(submission_body()).checklist


def test_a_payload_without_those_fields_is_refused() -> None:
    payload = received_payload(uuid4(), "FY2570-H1/C0001/v1")
    with pytest.raises(ValueError, match="submission_id"):
        payload_around_version(payload, uuid4(), "FY2570-H1/C0001/v1")
