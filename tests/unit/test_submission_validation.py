import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from shared.submission import SatisfactionSource, SubmissionBody
from tests.support.samples import citizen_survey, standard, submission_body


def problems(body: dict[str, Any]) -> list[tuple[str, str]]:
    parsed = SubmissionBody.model_validate(body)
    return [(".".join(map(str, p.loc)), p.reason) for p in standard().problems_with(parsed)]


def test_a_complete_report_fits_the_standard() -> None:
    assert problems(submission_body()) == []


def test_missing_question_and_item_are_named() -> None:
    body = submission_body()
    body["satisfaction"]["questions"].pop()
    body["checklist"]["items"].pop(0)
    assert problems(body) == [
        ("satisfaction.questions", "missing questions: S8"),
        ("checklist.items", "missing checklist items: P01"),
    ]


def test_unknown_and_repeated_codes_are_named() -> None:
    body = submission_body()
    body["checklist"]["items"][1]["code"] = "P01"
    body["satisfaction"]["questions"][0]["code"] = "S99"
    found = problems(body)
    assert (
        "satisfaction.questions.0.code",
        "unknown question code 'S99' for this standard",
    ) in found
    assert ("checklist.items.0.code", "checklist item 'P01' answered 2 times") in found
    assert ("checklist.items", "missing checklist items: P02") in found


def test_more_answers_than_respondents_and_no_answers_are_refused() -> None:
    body = submission_body(respondents=10, counts=[0, 0, 0, 5, 5])
    body["satisfaction"]["questions"][0]["counts"] = [0, 0, 0, 6, 5]
    body["satisfaction"]["questions"][1]["counts"] = [0, 0, 0, 0, 0]
    assert problems(body) == [
        ("satisfaction.questions.0.counts", "11 answers exceed 10 respondents"),
        ("satisfaction.questions.1.counts", "question has no answers"),
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda b: b.update(center_id="C0002"), "center_id"),
        (lambda b: b["satisfaction"].update(respondents="412"), "satisfaction.respondents"),
        (lambda b: b["satisfaction"]["questions"][0].update(counts=[1, 2, 3]), "counts"),
        (lambda b: b["satisfaction"]["questions"][0].update(counts=[-1, 0, 0, 0, 9]), "counts"),
        (lambda b: b["checklist"]["items"][0].update(met="yes"), "met"),
        (lambda b: b["checklist"]["items"][0].update(evidence="x" * 2001), "evidence"),
        (lambda b: b.update(round_id="2570-H1"), "round_id"),
        (lambda b: b["checklist"]["items"].extend([b["checklist"]["items"][0]] * 300), "items"),
    ],
)
def test_shape_errors_name_the_field(change: Any, field: str) -> None:
    body = submission_body()
    change(body)
    with pytest.raises(ValidationError) as error:
        SubmissionBody.model_validate(body)
    locations = [".".join(map(str, e["loc"])) for e in error.value.errors()]
    assert any(field in loc for loc in locations), locations


def source_errors(source: Any) -> list[tuple[str, str]]:
    """What the body's parser says of ``satisfaction.source`` (as intake's 422 names it)."""
    with pytest.raises(ValidationError) as error:
        SubmissionBody.model_validate_json(json.dumps(submission_body(source=source)))
    return [
        (".".join(map(str, e["loc"])), e["msg"].removeprefix("Value error, "))
        for e in error.value.errors()
    ]


def test_without_a_source_the_figures_are_the_centers_own_survey() -> None:
    body = SubmissionBody.model_validate_json(json.dumps(submission_body()))
    assert body.satisfaction.source == SatisfactionSource(kind="center_survey")
    stated = submission_body(source={"kind": "center_survey"})
    assert SubmissionBody.model_validate_json(json.dumps(stated)) == body


def test_a_citizen_survey_source_carries_its_tally() -> None:
    body = SubmissionBody.model_validate_json(
        json.dumps(submission_body(source=citizen_survey(412, 57)))
    )
    source = body.satisfaction.source
    assert (source.kind, source.responses, source.revision) == ("citizen_survey", 412, 57)
    assert source.tallied_at == datetime(2027, 4, 2, 2, 13, tzinfo=UTC)
    assert problems(submission_body(source=citizen_survey(412))) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            {"kind": "citizen_survey"},
            [
                ("satisfaction.source.responses", "required for a citizen_survey source"),
                ("satisfaction.source.revision", "required for a citizen_survey source"),
                ("satisfaction.source.tallied_at", "required for a citizen_survey source"),
            ],
        ),
        (
            {"kind": "center_survey", "responses": 412},
            [("satisfaction.source.responses", "only a citizen_survey source has it")],
        ),
        ({**citizen_survey(), "responses": 0}, [("satisfaction.source.responses", "")]),
        ({**citizen_survey(), "responses": "412"}, [("satisfaction.source.responses", "")]),
        ({**citizen_survey(), "revision": 0}, [("satisfaction.source.revision", "")]),
        ({**citizen_survey(), "tallied_at": "2027-04-02T02:13:00"}, [
            ("satisfaction.source.tallied_at", "")
        ]),
        ({"kind": "neighbours_survey"}, [("satisfaction.source.kind", "")]),
        ({**citizen_survey(), "counts": [1]}, [("satisfaction.source.counts", "")]),
    ],
)  # fmt: skip
def test_a_wrong_source_is_refused_naming_its_field(
    source: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    found = source_errors(source)
    assert [field for field, _ in found] == [field for field, _ in expected]
    for (_, reason), (_, wanted) in zip(found, expected, strict=True):
        assert wanted in reason


def test_a_citizen_surveys_responses_are_its_respondents() -> None:
    body = submission_body(respondents=412, source=citizen_survey(responses=500))
    assert problems(body) == [
        (
            "satisfaction.source.responses",
            "500 responses differ from 412 respondents:"
            " a citizen survey's respondents are its responses",
        )
    ]
