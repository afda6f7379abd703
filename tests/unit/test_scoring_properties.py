"""Properties of the scoring arithmetic (spec §4), over generated answers."""

from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.scoring import (
    judge,
    question_percent,
    sample_of,
    score_checklist,
    score_satisfaction,
)
from shared.submission import QuestionAnswers, Satisfaction, SubmissionBody
from tests.support.samples import standard, submission_body

counts = st.lists(st.integers(0, 5000), min_size=5, max_size=5).filter(lambda c: sum(c) > 0)


@given(counts)
def test_a_question_scores_between_20_and_100_percent(answers: list[int]) -> None:
    assert 20.0 <= question_percent(answers) <= 100.0


@given(counts, st.integers(0, 3), st.integers(1, 500))
def test_more_answers_at_a_higher_rating_never_lower_the_score(
    answers: list[int], rating: int, extra: int
) -> None:
    higher, lower = list(answers), list(answers)
    higher[rating + 1] += extra
    lower[rating] += extra
    assert question_percent(higher) >= question_percent(lower)


@given(counts, st.integers(0, 4), st.integers(1, 500))
def test_adding_top_ratings_never_lowers_and_bottom_ratings_never_raise(
    answers: list[int], rating: int, extra: int
) -> None:
    top, bottom = list(answers), list(answers)
    top[4] += extra
    bottom[0] += extra
    assert question_percent(top) >= question_percent(answers) >= question_percent(bottom)


@given(st.lists(counts, min_size=1, max_size=8))
def test_overall_is_the_mean_of_all_answers_pooled(questions: list[list[int]]) -> None:
    satisfaction = Satisfaction(
        respondents=max(sum(q) for q in questions),
        questions=[QuestionAnswers(code=f"S{n + 1}", counts=q) for n, q in enumerate(questions)],
    )
    ratings = sum(r * n for q in questions for r, n in enumerate(q, start=1))
    answers = sum(sum(q) for q in questions)
    expected = round(ratings / answers / 5 * 100, 2)
    assert score_satisfaction(satisfaction).overall_percent == expected
    per_question = score_satisfaction(satisfaction).questions.values()
    assert min(per_question) - 0.01 <= expected <= max(per_question) + 0.01


@given(st.lists(counts, min_size=8, max_size=8), st.integers(0, 1000), st.integers(1, 30_000))
def test_the_sample_is_the_fewest_answers_whatever_the_respondents_declared(
    questions: list[list[int]], extra_respondents: int, minimum: int
) -> None:
    s = standard()
    s = s.model_copy(
        update={"thresholds": s.thresholds.model_copy(update={"minimum_respondents": minimum})}
    )
    body = submission_body(respondents=max(sum(q) for q in questions) + extra_respondents)
    for question, answers in zip(body["satisfaction"]["questions"], questions, strict=True):
        question["counts"] = answers
    submission = SubmissionBody.model_validate(body)
    assert s.problems_with(submission) == []
    sample = sample_of(submission.satisfaction)
    assert sample.answers == min(sum(q) for q in questions) <= sample.respondents
    _, reasons = judge(
        s,
        score_satisfaction(submission.satisfaction),
        score_checklist(s, submission.checklist),
        sample,
    )
    assert ("sample_too_small" in [r.code for r in reasons]) == (sample.answers < minimum)
