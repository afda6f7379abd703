"""Intake's rules for the citizen survey: which tally it keeps, and which claims it refuses."""

from datetime import UTC, datetime

from services.intake.adapters.tallies import highest_revisions
from services.intake.domain.survey import SeenTally, claim_problem
from shared.events import SurveyTally
from shared.submission import SatisfactionSource

AT = datetime(2027, 4, 2, 2, 13, tzinfo=UTC)


def tally(center: str, revision: int, responses: int) -> SurveyTally:
    return SurveyTally(
        center_id=center,
        round_id="FY2570-H1",
        standard="gecc-maintenance-2570",
        responses=responses,
        counts={},
        revision=revision,
        last_response_at=AT,
        tallied_at=AT,
    )


def citizen(responses: int) -> SatisfactionSource:
    return SatisfactionSource(kind="citizen_survey", responses=responses, revision=1, tallied_at=AT)


def test_of_each_center_and_round_the_highest_revision_is_kept_whatever_the_order() -> None:
    kept = highest_revisions(
        [tally("A", 1, 10), tally("A", 3, 30), tally("B", 1, 5), tally("A", 2, 20)]
    )
    assert sorted((t.center_id, t.revision, t.responses) for t in kept) == [
        ("A", 3, 30),
        ("B", 1, 5),
    ]


def test_a_claim_up_to_the_latest_tally_is_taken_and_beyond_it_refused() -> None:
    seen = SeenTally("A", "FY2570-H1", responses=400, revision=57, tallied_at=AT)
    assert claim_problem(citizen(400), seen, "FY2570-H1") is None
    assert claim_problem(citizen(399), seen, "FY2570-H1") is None
    assert claim_problem(citizen(401), seen, "FY2570-H1") == (
        "401 responses exceed the 400 of the latest tally seen"
        " (revision 57, tallied at 2027-04-02T02:13:00+00:00)"
    )


def test_a_claim_without_any_tally_seen_is_refused() -> None:
    assert claim_problem(citizen(1), None, "FY2570-H1") == (
        "no tally of this center's citizen survey in round FY2570-H1 has been seen"
    )


def test_the_centers_own_survey_needs_no_tally() -> None:
    assert claim_problem(SatisfactionSource(), None, "FY2570-H1") is None
