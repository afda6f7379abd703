"""Properties of the scoring arithmetic (spec §4), over generated answers."""

from hypothesis import given
from hypothesis import strategies as st

from services.scoring.domain.scoring import question_percent, score_satisfaction
from shared.submission import QuestionAnswers, Satisfaction

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
