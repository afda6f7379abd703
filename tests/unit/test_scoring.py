import pytest

from services.scoring.domain.scoring import (
    Sample,
    judge,
    question_percent,
    sample_of,
    score_checklist,
    score_satisfaction,
)
from shared.events import Reason, Verdict
from shared.submission import SubmissionBody
from tests.support.samples import citizen_survey, standard, submission_body


def body(**kwargs: object) -> SubmissionBody:
    return SubmissionBody.model_validate(submission_body(**kwargs))  # type: ignore[arg-type]


def with_answers(submission: SubmissionBody, answers: dict[str, list[int]]) -> SubmissionBody:
    """``submission`` with the counts of some questions replaced."""
    satisfaction = submission.satisfaction
    questions = [
        q.model_copy(update={"counts": answers.get(q.code, q.counts)})
        for q in satisfaction.questions
    ]
    return submission.model_copy(
        update={"satisfaction": satisfaction.model_copy(update={"questions": questions})}
    )


def judged(submission: SubmissionBody) -> tuple[Verdict, list[Reason]]:
    s = standard()
    return judge(
        s,
        score_satisfaction(submission.satisfaction),
        score_checklist(s, submission.checklist),
        sample_of(submission.satisfaction),
    )


def test_mean_rating_of_4_58_is_91_6_percent() -> None:
    # 50 answers: 29 fives, 21 fours -> mean (145 + 84) / 50 = 4.58
    assert question_percent([0, 0, 0, 21, 29]) == 91.6


def test_all_lowest_ratings_give_20_percent_and_all_highest_100() -> None:
    assert question_percent([7, 0, 0, 0, 0]) == 20.0
    assert question_percent([0, 0, 0, 0, 7]) == 100.0


def test_overall_satisfaction_pools_all_answers_not_question_means() -> None:
    submission = body(respondents=100)
    questions = [q.model_copy() for q in submission.satisfaction.questions]
    pooled = submission.satisfaction.model_copy(
        update={
            "questions": [
                questions[0].model_copy(update={"counts": [0, 0, 0, 0, 1]}),  # 1 answer: 5
                *[q.model_copy(update={"counts": [9, 0, 0, 0, 0]}) for q in questions[1:]],
            ]
        }
    )
    score = score_satisfaction(pooled)
    answers = 1 + 9 * 7
    assert score.overall_percent == round((5 + 9 * 7) / answers / 5 * 100, 2)
    assert score.questions["S1"] == 100.0
    assert score.questions["S2"] == 20.0


def test_checklist_percent_is_weight_of_met_items_over_all_weight() -> None:
    s = standard()
    unmet = ("P03", "Q04")  # weights 1 and 1
    score = score_checklist(s, body(unmet=unmet).checklist)
    total = sum(i.weight for i in s.items)
    assert score.overall_percent == round((total - 2) / total * 100, 2)
    physical = [i for i in s.items if i.area == "physical"]
    physical_total = sum(i.weight for i in physical)
    assert score.areas["physical"] == round((physical_total - 1) / physical_total * 100, 2)
    assert score.areas["outcome"] == 100.0
    assert score.unmet_mandatory == []


@pytest.mark.parametrize(
    ("kwargs", "verdict", "reasons"),
    [
        ({}, "maintained", []),
        ({"unmet": ("P01",)}, "not_maintained", ["mandatory_item_not_met"]),
        ({"unmet": ("P01", "Q01")}, "not_maintained", ["mandatory_item_not_met"] * 2),
        ({"counts": [10, 10, 10, 10, 10]}, "at_risk", ["satisfaction_below_threshold"]),
        ({"respondents": 29, "counts": [0, 0, 0, 0, 29]}, "at_risk", ["sample_too_small"]),
        (
            {"unmet": ("P03", "P05", "P06", "P07", "P08", "Q03", "Q04")},
            "at_risk",
            ["checklist_below_threshold"],
        ),
    ],
)
def test_verdict_rules(kwargs: dict[str, object], verdict: str, reasons: list[str]) -> None:
    got_verdict, got_reasons = judged(body(**kwargs))
    assert got_verdict == verdict
    assert [r.code for r in got_reasons] == reasons


def test_unmet_mandatory_item_wins_over_low_satisfaction() -> None:
    verdict, reasons = judged(body(unmet=("P01",), counts=[10, 0, 0, 0, 0]))
    assert verdict == "not_maintained"
    assert reasons[0].detail == {"item": "P01"}


def test_30_respondents_declared_with_one_answer_a_question_is_a_sample_of_1() -> None:
    verdict, reasons = judged(body(respondents=30, counts=[0, 0, 0, 0, 1]))
    assert verdict == "at_risk"
    assert [r.code for r in reasons] == ["sample_too_small"]
    assert reasons[0].detail == {
        "sample": 1,
        "question": "S1",
        "respondents": 30,
        "minimum": 30,
        "source": "center_survey",
    }


def test_the_sample_is_the_fewest_answers_any_question_received() -> None:
    submission = with_answers(
        body(respondents=30, counts=[0, 0, 0, 10, 20]), {"S3": [0, 0, 0, 0, 1]}
    )
    assert sample_of(submission.satisfaction) == Sample(answers=1, question="S3", respondents=30)
    verdict, (reason,) = judged(submission)
    assert (verdict, reason.code) == ("at_risk", "sample_too_small")
    assert reason.detail == {
        "sample": 1,
        "question": "S3",
        "respondents": 30,
        "minimum": 30,
        "source": "center_survey",
    }
    assert reason.text_en == (
        "The smallest number of answers to a question was 1 (S3), fewer than the minimum of 30"
        " (30 respondents declared) (from the center's own survey)"
    )
    assert reason.text_th == (
        "ข้อคำถามที่มีผู้ตอบน้อยที่สุด (S3) มีผู้ตอบ 1 คน น้อยกว่าขั้นต่ำ 30 คน (แจ้งผู้ตอบแบบสำรวจ 30 คน)"
        " (จากแบบสำรวจที่ศูนย์ฯ ดำเนินการเอง)"
    )


def test_satisfaction_reasons_say_where_the_figures_come_from() -> None:
    low = body(respondents=20, counts=[0, 0, 20, 0, 0], source=citizen_survey(20))
    verdict, reasons = judged(low)
    assert verdict == "at_risk"
    by_code = {r.code: r for r in reasons}
    satisfaction, sample = by_code["satisfaction_below_threshold"], by_code["sample_too_small"]
    assert satisfaction.detail == {
        "percent": 60.0,
        "threshold": 85.0,
        "source": "citizen_survey",
        "responses": 20,
    }
    assert satisfaction.text_th == (
        "ความพึงพอใจร้อยละ 60.0 ต่ำกว่าเกณฑ์ร้อยละ 85.0 (จากแบบสำรวจความพึงพอใจของประชาชนผ่านระบบ 20 คน)"
    )
    assert satisfaction.text_en == (
        "Satisfaction 60.0 % is below the 85.0 % threshold (from the citizen survey, 20 responses)"
    )
    assert sample.detail["source"] == "citizen_survey"
    assert sample.text_en.endswith("(from the citizen survey, 20 responses)")
    assert sample.text_th.endswith("(จากแบบสำรวจความพึงพอใจของประชาชนผ่านระบบ 20 คน)")


def test_the_first_question_with_the_fewest_answers_is_named() -> None:
    fewest = {"S5": [0, 0, 0, 0, 29], "S2": [0, 0, 0, 0, 29]}
    submission = with_answers(body(respondents=400), fewest)
    assert sample_of(submission.satisfaction) == Sample(29, "S2", 400)


def test_a_sample_of_exactly_the_minimum_is_enough() -> None:
    submission = with_answers(body(respondents=412), {"S8": [0, 0, 0, 10, 20]})
    assert sample_of(submission.satisfaction).answers == 30
    assert judged(submission) == ("maintained", [])
