"""`gecc demo`'s citizens and its survey-sourced report (gecc/demo_survey.py): the form a
phone fills in read from the page whatever its field names, the citizens' moments, and the
report built from the tally the survey service's read API gives."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from gecc.demo import DemoResult
from gecc.demo_summary import _survey
from gecc.demo_survey import (
    Citizen,
    answers,
    plan_citizens,
    report_from_tally,
    survey_centers,
    survey_page,
)
from gecc.registry_generator import generate_registry
from shared.submission import SubmissionBody
from tests.support.samples import standard

STANDARD = standard()
# A survey page as part A's contract describes it: radio buttons 1..5 per question, a hidden
# signed visit token, a honeypot field; the names are the page's business.
PAGE = """<!doctype html><html lang="th"><body>
<form method="get" action="/lang"><input type="text" name="ignored"></form>
<form method="post" action="/s/GECC-0001">
  <input type="hidden" name="visit" value="v1.abc.def">
  <div class="hp"><label>เว้นว่าง <input type="text" name="website" autocomplete="off"></label></div>
  <fieldset><legend>S1</legend>
  {s1}
  </fieldset>
  <fieldset><legend>S2</legend>
  {s2}
  </fieldset>
  <button type="submit">ส่งคำตอบ</button>
</form></body></html>"""


def page() -> str:
    def radios(name: str) -> str:
        return "".join(
            f'<input type="radio" name="{name}" id="{name}-{r}" value="{r}">' for r in range(1, 6)
        )

    return PAGE.format(s1=radios("q-S1"), s2=radios("q-S2"))


def test_a_citizen_answers_every_question_keeps_the_token_and_leaves_the_honeypot() -> None:
    action, posted = answers(page(), random.Random(1))
    assert action == "/s/GECC-0001"
    assert posted["visit"] == "v1.abc.def"
    assert posted["website"] == ""
    assert "ignored" not in posted  # another form's field
    assert posted["q-S1"] in {"1", "2", "3", "4", "5"} and posted["q-S2"] in {
        "1",
        "2",
        "3",
        "4",
        "5",
    }


def test_citizens_mostly_rate_four_and_five() -> None:
    rng = random.Random(7)
    ratings = Counter(answers(page(), rng)[1]["q-S1"] for _ in range(1000))
    assert ratings["4"] + ratings["5"] > 750
    assert set(ratings) <= {"1", "2", "3", "4", "5"}


def test_the_hands_on_center_is_first_and_its_neighbours_follow() -> None:
    centers = generate_registry(200, 3)
    hands_on = centers[17]
    chosen = survey_centers(centers, hands_on, 4)
    assert chosen[0] == hands_on and len(chosen) == 4 and len({c.id for c in chosen}) == 4
    same_office = [c for c in centers if c.office_path == hands_on.office_path]
    if len(same_office) >= 4:
        assert all(c.office_path == hands_on.office_path for c in chosen)


def test_citizens_come_in_order_within_the_days_given() -> None:
    centers = generate_registry(20, 3)[:3]
    citizens = plan_citizens(centers, 5, timedelta(days=10), random.Random(2))
    assert len(citizens) == 15
    assert [c.at for c in citizens] == sorted(c.at for c in citizens)
    assert all(timedelta(0) <= c.at <= timedelta(days=10) for c in citizens)
    assert Counter(c.center_id for c in citizens) == {c.id: 5 for c in centers}
    assert isinstance(citizens[0], Citizen)


def tally(responses: int = 24) -> dict[str, Any]:
    """The survey service's tally read API answer (the SurveyTally data)."""
    return {
        "center_id": "GECC-0001",
        "round_id": "FY2570-H1",
        "standard": STANDARD.id,
        "responses": responses,
        "counts": {q.code: [0, 1, 3, 8, responses - 12] for q in STANDARD.questions},
        "revision": 31,
        "last_response_at": "2026-11-20T03:00:00Z",
        "tallied_at": "2026-11-20T03:00:01Z",
    }


def test_the_survey_sourced_report_is_the_tally_and_names_it() -> None:
    body = report_from_tally(STANDARD, "FY2570-H1", tally(), random.Random(5))
    satisfaction = body["satisfaction"]
    assert satisfaction["respondents"] == 24
    assert all(q["counts"] == [0, 1, 3, 8, 12] for q in satisfaction["questions"])
    assert satisfaction["source"] == {
        "kind": "citizen_survey",
        "responses": 24,
        "revision": 31,
        "tallied_at": "2026-11-20T03:00:01Z",
    }
    # everything else is a report intake takes (the source is checked by intake, part C)
    without = {**body, "satisfaction": {k: v for k, v in satisfaction.items() if k != "source"}}
    parsed = SubmissionBody.model_validate(without)
    assert STANDARD.problems_with(parsed) == []


def test_the_survey_page_address() -> None:
    assert survey_page("http://127.0.0.1:8085/", "GECC-0001") == "http://127.0.0.1:8085/s/GECC-0001"


def test_the_closing_lines_say_where_the_survey_page_and_poster_are() -> None:
    now = datetime.now(UTC)
    result = DemoResult(10, "token", now, now, now)
    result.survey_page = "http://127.0.0.1:8085/s/GECC-0001"
    result.poster = "http://127.0.0.1:8084/centers/GECC-0001/poster.pdf"
    result.survey.centers = ["GECC-0001", "GECC-0002"]
    result.survey.answered = 48
    result.survey.report_center, result.survey.report_responses = "GECC-0002", 24
    text = _survey(result)
    assert "48 generated citizens answered at GECC-0001, GECC-0002 (none refused)" in text
    assert "GECC-0002's report took its figures from the survey (24 responses)" in text
    assert "survey page    http://127.0.0.1:8085/s/GECC-0001" in text
    assert "poster         http://127.0.0.1:8084/centers/GECC-0001/poster.pdf" in text
