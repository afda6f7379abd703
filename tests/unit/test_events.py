import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from shared.events import (
    Envelope,
    EventType,
    RoundClosed,
    SignInRequested,
    SourceSummary,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.messaging.consumer import malformed
from shared.submission import SatisfactionSource, SubmissionBody
from shared.topics import TopicNames
from tests.support.samples import (
    as_version_1,
    as_version_2,
    citizen_survey,
    received_event,
    scored_event,
    submission_body,
)


def test_envelope_round_trips_with_every_data_field() -> None:
    body = SubmissionBody.model_validate(submission_body())
    data = SubmissionReceived(
        submission_id=uuid4(),
        version=2,
        receipt_number="FY2570-H1/C1/v2",
        center_id="C1",
        round_id="FY2570-H1",
        received_at=datetime.now(UTC),
        late=True,
        satisfaction=body.satisfaction,
        checklist=body.checklist,
    )
    event = new_event(data, producer="intake")
    parsed = Envelope[SubmissionReceived].model_validate_json(event.model_dump_json())
    assert parsed == event
    assert parsed.event_type is EventType.SUBMISSION_RECEIVED
    assert parsed.schema_version == 3
    assert parsed.data.checklist.items[0].evidence == "ภาพถ่ายจุดบริการ"
    assert parsed.data.satisfaction.source.kind == "center_survey"


def test_a_version_3_event_carries_a_citizen_surveys_tally() -> None:
    event = received_event(source=citizen_survey(412, 57))
    raw = json.loads(event.model_dump_json())
    assert raw["schema_version"] == 3
    assert raw["data"]["satisfaction"]["source"]["tallied_at"] == "2027-04-02T02:13:00Z"
    for parsed in (
        Envelope[SubmissionReceived].model_validate_json(json.dumps(raw)),
        Envelope[SubmissionReceived].model_validate(raw),  # as a dict: the time is text
    ):
        source = parsed.data.satisfaction.source
        assert (source.kind, source.responses, source.revision) == ("citizen_survey", 412, 57)


@pytest.mark.parametrize("version", [1, 2])
def test_older_submission_received_events_parse_as_the_centers_own_survey(version: int) -> None:
    """Events written before the satisfaction's source (schema versions 1 and 2) are still
    on the topic."""
    event = received_event(source=citizen_survey(412, 57))
    old = as_version_1(event) if version == 1 else as_version_2(event)
    assert "source" not in json.loads(old)["data"]["satisfaction"]
    parsed = Envelope[SubmissionReceived].model_validate_json(old)
    assert parsed.schema_version == version
    assert parsed.data.satisfaction.source == SatisfactionSource(kind="center_survey")
    assert parsed.data.satisfaction.questions == event.data.satisfaction.questions


def test_a_score_without_a_source_is_of_the_centers_own_survey() -> None:
    scored = scored_event(received_event().data)
    raw = json.loads(scored.model_dump_json())
    del raw["satisfaction_source"]
    assert SubmissionScored.model_validate(raw).satisfaction_source == SourceSummary(
        kind="center_survey", responses=None
    )


def test_a_version_1_submission_received_event_parses_with_no_evidence_files() -> None:
    """Events written before evidence files (schema version 1) are still on the topic."""
    body = submission_body()
    old = {
        "event_id": "0b7d2f7e-4e0c-4a43-9a55-3f4f7f1f0c01",
        "event_type": "submission.received",
        "occurred_at": "2026-11-01T03:00:00+00:00",
        "producer": "intake",
        "schema_version": 1,
        "data": {
            "submission_id": "5d1f7f0e-2f3c-4b8f-8a3e-1c2d3e4f5a6b",
            "version": 1,
            "receipt_number": "FY2570-H1/C1/v1",
            "center_id": "C1",
            "round_id": "FY2570-H1",
            "received_at": "2026-11-01T03:00:00+00:00",
            "late": False,
            **body,
        },
    }
    parsed = Envelope[SubmissionReceived].model_validate(old)
    assert parsed.schema_version == 1
    assert parsed.data.evidence == []
    assert all(item.files == [] for item in parsed.data.checklist.items)


def test_consumers_ignore_fields_added_by_newer_producers() -> None:
    event = new_event(RoundClosed(round_id="FY2570-H1", closes_at=datetime.now(UTC)), "notifier")
    raw = event.model_dump(mode="json")
    raw["data"]["new_optional_field"] = 1
    raw["trace_id"] = "abc"
    assert Envelope[RoundClosed].model_validate(raw).data == event.data


def test_topic_namespace_prefixes_every_topic() -> None:
    names = TopicNames("test-1.").all_with_partitions()
    assert all(name.startswith("test-1.gecc.") for name in names)
    assert names["test-1.gecc.submission.received.v1"] == 6
    assert "test-1.gecc.dead-letter.scoring.v1" in names
    assert "test-1.gecc.dead-letter.portal.v1" not in names  # the portal consumes nothing


def test_a_malformed_event_is_described_by_its_fields_never_its_values() -> None:
    event = new_event(
        SignInRequested(
            request_id=uuid4(),
            email="staff@example.go.th",
            code="one-time-code-xyz",
            expires_at=datetime.now(UTC),
        ),
        "intake",
    )
    raw = event.model_dump(mode="json")
    del raw["data"]["expires_at"]
    raw["data"]["request_id"] = "one-time-code-xyz"
    with pytest.raises(ValidationError) as error:
        Envelope[SignInRequested].model_validate(raw)
    described = malformed(error.value)
    assert "one-time-code-xyz" in str(error.value)  # pydantic's own text shows the values
    assert "one-time-code-xyz" not in described
    assert "data.request_id: Input should be a valid UUID" in described
    assert "data.expires_at: Field required" in described
