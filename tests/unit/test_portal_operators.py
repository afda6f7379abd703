"""The operator pages' pure parts: dates typed in Bangkok time, a round's window, the checks
before asking intake, and every ``operator.`` message a page names."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.portal.domain import operators
from services.portal.domain.operators import Problem, Round, suggested_extension_end
from services.portal.entrypoints.i18n import Catalogue
from shared.thai import BANGKOK

PORTAL = Path(__file__).resolve().parents[2] / "services" / "portal"
ROUND = Round.of(
    {
        "id": "FY2570-H1",
        "period_start": "2026-10-01",
        "period_end": "2027-03-31",
        "opens_at": datetime.fromisoformat("2027-04-01T00:00:00+07:00"),
        "due_at": datetime.fromisoformat("2027-04-30T16:30:00+07:00"),
        "closes_at": datetime.fromisoformat("2027-05-15T16:30:00+07:00"),
    }
)


def typed(**changes: str) -> dict[str, str]:
    fields = {
        "opens_at-day": "2027-04-01",
        "opens_at-time": "00:00",
        "due_at-day": "2027-04-30",
        "due_at-time": "16:30",
        "closes_at-day": "2027-05-15",
        "closes_at-time": "16:30",
    }
    return {**fields, **changes}


def test_a_day_and_time_are_read_in_bangkok() -> None:
    found = operators.bangkok_day_time("2027-04-30", "16:30")
    assert found == datetime(2027, 4, 30, 9, 30, tzinfo=UTC)
    assert operators.bangkok_day_time("2027-04-30", "") == datetime(2027, 4, 30, tzinfo=BANGKOK)
    assert operators.bangkok_day_time("30/04/2570", "16:30") is None
    assert operators.bangkok_day_time("2027-04-30", "25:00") is None


def test_a_search_until_a_day_includes_that_day() -> None:
    assert operators.bangkok_day("2027-03-05", end=True) == datetime(2027, 3, 6, tzinfo=BANGKOK)
    assert operators.bangkok_day("2027-03-05") == datetime(2027, 3, 5, tzinfo=BANGKOK)
    assert operators.bangkok_day("5 March") is None


def test_a_rounds_window() -> None:
    assert ROUND.window(ROUND.opens_at - timedelta(seconds=1)) == "not_open"
    assert ROUND.window(ROUND.due_at) == "open"
    assert ROUND.window(ROUND.due_at + timedelta(seconds=1)) == "late"
    assert ROUND.window(ROUND.closes_at + timedelta(seconds=1)) == "closed"
    assert (ROUND.kind, ROUND.fiscal_year) == ("H1", "2570")


def test_only_the_changed_dates_are_sent() -> None:
    changes, problems = operators.date_changes(ROUND, typed(**{"due_at-time": "18:00"}))
    assert problems == []
    assert changes == {"due_at": datetime(2027, 4, 30, 18, 0, tzinfo=BANGKOK)}


def test_dates_that_cannot_be_read_out_of_order_or_unchanged_are_refused() -> None:
    _, problems = operators.date_changes(ROUND, typed(**{"closes_at-day": "15/05/2570"}))
    assert problems == [Problem("closes_at", "operator.problem.date")]
    _, problems = operators.date_changes(ROUND, typed(**{"due_at-day": "2027-06-01"}))
    assert problems == [Problem("due_at", "operator.problem.order")]
    _, problems = operators.date_changes(ROUND, typed())
    assert problems == [Problem("opens_at", "operator.problem.unchanged")]


def test_a_reason_is_required() -> None:
    assert operators.reason_problem("  ab ") == Problem("reason", "operator.problem.reason_missing")
    assert operators.reason_problem("x" * 2001) == Problem("reason", "operator.problem.reason_long")
    assert operators.reason_problem("ตามหนังสือสั่งการ") is None


def test_intakes_field_errors_go_next_to_the_pages_fields() -> None:
    errors = [{"field": "until", "reason": "lies in the past"}, {"field": "(body)", "reason": "x"}]
    found = operators.intake_problems(errors, ("center_id", "until", "reason"))
    assert found == [
        Problem("until", "operator.problem.until", "lies in the past"),
        Problem("center_id", "operator.problem.center_id", "x"),
    ]


def test_every_operator_message_a_page_names_exists() -> None:
    messages = set(Catalogue.load().messages["th"])
    named: set[str] = set()
    for path in [*PORTAL.glob("templates/*.html"), *PORTAL.glob("**/*.py")]:
        named |= set(re.findall(r"""["'](operator\.[a-z_.]+)["']""", path.read_text("utf-8")))
    assert len(named) > 50
    # A name ending in "." or "_" is completed by the page (t("operator.kind." ~ kind)).
    missing = [
        name
        for name in named
        if name not in messages
        and not (name.endswith((".", "_")) and any(m.startswith(name) for m in messages))
    ]
    assert sorted(missing) == []


def test_an_extension_is_offered_until_the_close_or_a_week_from_now_after_it() -> None:
    before_close = ROUND.closes_at - timedelta(days=3)
    assert suggested_extension_end(ROUND.closes_at, before_close) == ROUND.closes_at
    after_close = ROUND.closes_at + timedelta(days=2)
    assert suggested_extension_end(ROUND.closes_at, after_close) == after_close + timedelta(days=7)
