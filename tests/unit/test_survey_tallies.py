"""The tallier's domain: responses folded into 5-point counts per (center, round, question)."""

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from services.survey.app import build_runtime, build_tallier_runtime
from services.survey.domain.tallies import (
    InvalidResponse,
    Tally,
    TallyKey,
    check,
    fold,
)
from services.survey.handlers.tallies import tally_event
from services.survey.settings import SurveySettings
from shared.events import Envelope, EventType, SurveyResponse, SurveyTally
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic

QUESTIONS = ("S1", "S2", "S3")
MORNING = datetime(2027, 1, 12, 2, 0, tzinfo=UTC)


def response(
    center: str = "GECC-0001",
    rounds: tuple[str, ...] = ("FY2570-H1", "FY2570-FY"),
    at: datetime = MORNING,
    standard: str = "gecc-maintenance-2570",
    **ratings: int,
) -> SurveyResponse:
    return SurveyResponse(
        center_id=center,
        round_ids=list(rounds),
        standard=standard,
        ratings=ratings or {"S1": 5, "S2": 4, "S3": 5},
        answered_at=at,
    )


def test_a_response_counts_once_in_every_round_it_names() -> None:
    additions = fold([response(S1=5, S2=4, S3=1)])
    assert set(additions) == {
        TallyKey("GECC-0001", "FY2570-H1"),
        TallyKey("GECC-0001", "FY2570-FY"),
    }
    for addition in additions.values():
        assert addition.responses == 1
        assert addition.counts == {
            "S1": [0, 0, 0, 0, 1],
            "S2": [0, 0, 0, 1, 0],
            "S3": [1, 0, 0, 0, 0],
        }
        assert addition.last_response_at == MORNING


def test_responses_of_a_batch_add_up_per_center_and_round_with_the_latest_time() -> None:
    later = MORNING + timedelta(minutes=5)
    additions = fold(
        [
            response(at=later, rounds=("FY2570-FY",), S1=5, S2=5),
            response(rounds=("FY2570-FY",), S1=5, S2=3),
            response(center="GECC-0002", rounds=("FY2570-FY",), S1=2),
            response(rounds=("FY2570-FY", "FY2570-FY"), S1=1),  # a round named twice: once
        ]
    )
    own = additions[TallyKey("GECC-0001", "FY2570-FY")]
    assert (own.responses, own.last_response_at) == (3, later)
    assert own.counts == {"S1": [1, 0, 0, 0, 2], "S2": [0, 0, 1, 0, 1]}
    other = additions[TallyKey("GECC-0002", "FY2570-FY")]
    assert (other.responses, other.counts) == (1, {"S1": [0, 1, 0, 0, 0]})


def test_nothing_folded_changes_nothing() -> None:
    assert fold([]) == {}


@pytest.mark.parametrize(
    ("ratings", "why"),
    [
        ({"S1": 0}, "outside 1..5 for S1"),
        ({"S1": 6, "S2": 3}, "outside 1..5 for S1"),
        ({"S9": 3}, "not in standard"),
        ({}, "answers no question"),
    ],
)
def test_a_response_that_can_never_count_is_refused_with_the_reason(
    ratings: dict[str, int], why: str
) -> None:
    refused = SurveyResponse(
        center_id="GECC-0001",
        round_ids=["FY2570-FY"],
        standard="gecc-maintenance-2570",
        ratings=ratings,
        answered_at=MORNING,
    )
    with pytest.raises(InvalidResponse, match=why):
        check(refused, QUESTIONS)


def test_a_response_naming_no_round_does_not_parse() -> None:
    with pytest.raises(ValidationError, match="round_ids"):
        response(rounds=())


def test_a_valid_response_passes() -> None:
    check(response(S1=1, S2=5), QUESTIONS)


def test_two_standards_for_one_tally_in_a_batch_are_refused() -> None:
    with pytest.raises(InvalidResponse, match="standard"):
        fold([response(), response(standard="gecc-maintenance-2571")])


def test_a_tally_becomes_its_event_with_every_question_in_order() -> None:
    tally = Tally(
        key=TallyKey("GECC-0001", "FY2570-H1"),
        standard="gecc-maintenance-2570",
        responses=2,
        counts={"S2": [0, 0, 0, 1, 1], "S1": [0, 0, 0, 0, 2]},
        revision=7,
        last_response_at=MORNING,
        tallied_at=MORNING + timedelta(seconds=1),
    )
    event = tally.as_event_data()
    assert list(event.counts) == ["S1", "S2"]
    assert (event.center_id, event.round_id, event.responses, event.revision) == (
        "GECC-0001",
        "FY2570-H1",
        2,
        7,
    )


def test_a_tally_event_written_by_hand_is_the_contract_s_survey_tally() -> None:
    tally = Tally(
        key=TallyKey("GECC-0001", "FY2570-H1"),
        standard="gecc-maintenance-2570",
        responses=2,
        counts={"S1": [0, 0, 0, 0, 2], "S2": [0, 0, 0, 1, 1]},
        revision=3,
        last_response_at=MORNING,
        tallied_at=MORNING + timedelta(seconds=1),
    )
    event_id, key, payload = tally_event(tally)
    parsed = Envelope[SurveyTally].model_validate_json(payload)
    assert (parsed.event_id, key) == (event_id, "GECC-0001/FY2570-H1")
    assert parsed.data == tally.as_event_data()
    assert (parsed.event_type, parsed.schema_version, parsed.producer) == (
        EventType.SURVEY_TALLY,
        SurveyTally.schema_version,
        "survey",
    )
    assert parsed.occurred_at == tally.tallied_at


def response_subscribers(runtime: ServiceRuntime) -> list[object]:
    return [
        s
        for s in runtime.broker.subscribers
        if any(topic.name == Topic.SURVEY_RESPONSE for topic in getattr(s, "topics", ()))
    ]


@pytest.mark.parametrize(("consumers", "subscribers"), [(1, 1), (2, 2)])
def test_the_tallier_consumers_its_process_runs(consumers: int, subscribers: int) -> None:
    settings = SurveySettings(_env_file=None, tallier_consumers=consumers)
    assert len(response_subscribers(build_tallier_runtime(settings))) == subscribers


@pytest.mark.parametrize("consumers", [0, 2])
def test_the_survey_process_itself_never_tallies(consumers: int) -> None:
    runtime = build_runtime(SurveySettings(_env_file=None, tallier_consumers=consumers))
    assert response_subscribers(runtime) == []
    assert ("tallier" in runtime.checks) == (consumers > 0)
