"""The portal's report form: what is typed, checked by intake's rules, each problem on its
control; percentages as the scorer computes them."""

from typing import Any

from services.portal.domain.report_form import ItemAnswer, ReportForm, check
from services.scoring.domain.scoring import score_satisfaction
from shared.submission import SubmissionBody
from tests.support.samples import standard, submission_body

STANDARD = standard()


def posted(**changes: str) -> dict[str, str]:
    """A whole form as a browser posts it, from the sample report."""
    body = submission_body()
    fields: dict[str, str] = {"respondents": str(body["satisfaction"]["respondents"])}
    for question in body["satisfaction"]["questions"]:
        for rating, count in enumerate(question["counts"], start=1):
            fields[f"count-{question['code']}-{rating}"] = str(count)
    for item in body["checklist"]["items"]:
        fields[f"met-{item['code']}"] = "yes" if item["met"] else "no"
        fields[f"evidence-{item['code']}"] = item["evidence"]
    return {**fields, **changes}


def errors_of(fields: dict[str, str]) -> list[tuple[str, str]]:
    _, errors = check(ReportForm.from_post(STANDARD, fields), STANDARD, "FY2570-H1")
    return [(e.control, e.key) for e in errors]


def test_a_whole_form_is_the_report_intake_takes() -> None:
    body, errors = check(ReportForm.from_post(STANDARD, posted()), STANDARD, "FY2570-H1")
    assert errors == []
    assert body == SubmissionBody.model_validate(submission_body())


def test_each_problem_is_named_by_its_control() -> None:
    q1, q2 = STANDARD.questions[0].code, STANDARD.questions[1].code
    item = STANDARD.items[0].code
    fields = posted(
        **{
            f"count-{q1}-2": "สาม",
            f"count-{q2}-5": "-4",
            f"met-{item}": "",
            f"evidence-{STANDARD.items[1].code}": "ก" * 2001,
        }
    )
    assert errors_of(fields) == [
        (f"count-{q1}-2", "error.whole_number"),
        (f"count-{q2}-5", "error.whole_number"),
        (f"met-{item}", "error.choose_met"),
        (f"evidence-{STANDARD.items[1].code}", "error.evidence_too_long"),
    ]


def test_respondents_are_required_and_answers_may_not_exceed_them() -> None:
    q1 = STANDARD.questions[0].code
    assert errors_of(posted(respondents="")) == [("respondents", "error.respondents_required")]
    assert errors_of(posted(respondents="0")) == [("respondents", "error.respondents_at_least_one")]
    assert errors_of(posted(respondents="100")) == [
        (f"count-{q.code}-1", "error.answers_exceed_respondents") for q in STANDARD.questions
    ]
    empty = {f"count-{q1}-{r}": "" for r in range(1, 6)}
    assert errors_of(posted(**empty)) == [(f"count-{q1}-1", "error.question_no_answers")]


def test_empty_counts_are_zero_and_thousands_separators_are_read() -> None:
    q1 = STANDARD.questions[0].code
    fields = posted(respondents="1,200", **{f"count-{q1}-1": "", f"count-{q1}-5": "1,000"})
    body, errors = check(ReportForm.from_post(STANDARD, fields), STANDARD, "FY2570-H1")
    assert errors == [] and body is not None
    assert body.satisfaction.respondents == 1200
    assert body.satisfaction.questions[0].counts == [0, 3, 20, 150, 1000]


def test_nul_in_evidence_is_refused_on_its_control() -> None:
    item = STANDARD.items[2].code
    assert errors_of(posted(**{f"evidence-{item}": "a\x00b"})) == [
        (f"evidence-{item}", "error.not_storable")
    ]


def test_percentages_are_the_scorers() -> None:
    form = ReportForm.from_post(STANDARD, posted())
    body = SubmissionBody.model_validate(submission_body())
    scored = score_satisfaction(body.satisfaction)
    assert {q: form.percent(q) for q in form.counts} == scored.questions
    assert form.overall_percent() == scored.overall_percent
    broken = ReportForm.from_post(
        STANDARD, posted(**{f"count-{STANDARD.questions[0].code}-1": "x"})
    )
    assert broken.percent(STANDARD.questions[0].code) is None
    assert broken.overall_percent() is None


def test_a_report_a_draft_and_a_kept_form_come_back_as_they_were() -> None:
    report: dict[str, Any] = submission_body(unmet=(STANDARD.items[0].code,))
    form = ReportForm.from_report(STANDARD, report)
    assert form.items[STANDARD.items[0].code] == ItemAnswer("no", "ภาพถ่ายจุดบริการ")
    assert ReportForm.from_fields(STANDARD, form.to_fields()) == form
    typed = ReportForm.from_post(STANDARD, {"respondents": "77"})
    merged = form.merged(typed)
    assert merged.respondents == "77"
    assert merged.counts == form.counts and merged.items == form.items
