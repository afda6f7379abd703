"""The citizen survey in the portal's domain: the tally as the survey service sends it,
its percentages as the scorer computes them, taking it into the report form, and the
source the report then names (what intake is sent, what a draft keeps)."""

import json
from dataclasses import replace
from datetime import UTC, datetime

from services.portal.domain.report_form import ReportForm, check, report_json
from services.portal.domain.survey import SurveySource, Tally
from services.scoring.domain.scoring import score_satisfaction
from shared.events import SurveyTally
from shared.submission import SubmissionBody
from tests.support.samples import standard, submission_body
from tests.unit.test_portal_report_form import posted

STANDARD = standard()
CODES = [q.code for q in STANDARD.questions]
AT = datetime(2027, 4, 2, 2, 13, tzinfo=UTC)


def tally(responses: int = 6, revision: int = 9) -> Tally:
    event = SurveyTally(
        center_id="GECC-0003",
        round_id="FY2570-H1",
        standard=STANDARD.id,
        responses=responses,
        counts={code: [0, 0, 1, 3, 2] for code in CODES},
        revision=revision,
        last_response_at=AT,
        tallied_at=AT,
    )
    return Tally.of(json.loads(event.model_dump_json()))


def test_a_tally_reads_as_the_survey_service_sends_it() -> None:
    found = tally()
    assert (found.responses, found.revision, found.tallied_at) == (6, 9, AT)
    assert found.counts[CODES[0]] == (0, 0, 1, 3, 2)
    assert found.counts_of("NOPE") == (0, 0, 0, 0, 0)


def test_its_percentages_are_the_scorers() -> None:
    found = tally()
    body = SubmissionBody.model_validate(submission_body(respondents=6, counts=[0, 0, 1, 3, 2]))
    scored = score_satisfaction(body.satisfaction)
    assert found.overall_percent() == scored.overall_percent
    assert found.percent(CODES[0]) == 83.33


def test_taking_a_tally_fills_the_satisfaction_and_keeps_the_checklist() -> None:
    typed = ReportForm.from_post(STANDARD, posted(respondents="999"))
    taken = typed.with_tally(tally())
    assert taken.respondents == "6"
    assert all(taken.counts[code] == ("0", "0", "1", "3", "2") for code in CODES)
    assert taken.items == typed.items
    assert taken.source == SurveySource(6, 9, AT)
    assert taken.without_source().source is None
    assert taken.without_source().counts == taken.counts


def test_the_source_travels_with_the_form_and_the_draft() -> None:
    taken = ReportForm.from_post(STANDARD, posted()).with_tally(tally())
    again = ReportForm.from_fields(STANDARD, json.loads(json.dumps(taken.to_fields())))
    assert again == taken
    fields = posted(
        respondents="6",
        source="citizen_survey",
        **{"source-responses": "6", "source-revision": "9", "source-tallied-at": AT.isoformat()},
    )
    assert ReportForm.from_post(STANDARD, fields).source == SurveySource(6, 9, AT)
    # anything not as the portal writes it is no citizen survey
    assert ReportForm.from_post(STANDARD, {**fields, "source": "center_survey"}).source is None
    for broken in ({"source-revision": "x"}, {"source-tallied-at": "2027-04-02T02:13"}):
        assert ReportForm.from_post(STANDARD, {**fields, **broken}).source is None


def test_intake_is_sent_the_source_and_a_centers_own_survey_is_left_out() -> None:
    taken = ReportForm.from_post(STANDARD, posted()).with_tally(tally())
    body, errors = check(taken, STANDARD, "FY2570-H1")
    assert errors == [] and body is not None
    sent = json.loads(report_json(body))
    assert sent["satisfaction"]["source"] == {
        "kind": "citizen_survey",
        "responses": 6,
        "revision": 9,
        "tallied_at": "2027-04-02T02:13:00Z",
    }
    assert sent["satisfaction"]["respondents"] == 6
    own_body, _ = check(taken.without_source(), STANDARD, "FY2570-H1")
    assert own_body is not None
    own = json.loads(report_json(own_body))
    assert "source" not in own["satisfaction"]
    expected = json.loads(own_body.model_dump_json())
    expected["satisfaction"].pop("source", None)  # the default, once the model has it
    assert own == expected


def test_respondents_must_equal_the_surveys_responses_while_it_is_the_source() -> None:
    taken = ReportForm.from_post(STANDARD, posted()).with_tally(tally())
    changed = replace(taken, respondents="7")  # typed over the read-only figure
    _, errors = check(changed, STANDARD, "FY2570-H1")
    assert [(e.control, e.key, e.params) for e in errors] == [
        ("respondents", "error.survey_responses_differ", {"responses": 6})
    ]
    assert check(taken, STANDARD, "FY2570-H1")[1] == []


def test_an_amended_report_keeps_the_source_it_was_sent_with() -> None:
    report = submission_body(respondents=6, counts=[0, 0, 1, 3, 2])
    report["satisfaction"]["source"] = SurveySource(6, 9, AT).to_json()
    assert ReportForm.from_report(STANDARD, report).source == SurveySource(6, 9, AT)
    report["satisfaction"]["source"] = {"kind": "center_survey"}
    assert ReportForm.from_report(STANDARD, report).source is None
