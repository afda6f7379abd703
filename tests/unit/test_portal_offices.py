"""The office pages' pure rules: which round opens, breadcrumbs within a scope, paging."""

from datetime import UTC, datetime, timedelta

from services.portal.domain.offices import Paging, current_round, submitted_share, trail

NOW = datetime(2027, 1, 10, tzinfo=UTC)


def round_(round_id: str, opens_days: int, closes_days: int) -> dict[str, object]:
    return {
        "id": round_id,
        "opens_at": NOW + timedelta(days=opens_days),
        "closes_at": NOW + timedelta(days=closes_days),
    }


def test_the_newest_open_round_opens_else_the_newest() -> None:
    rounds = [
        round_("FY2569-FY", -400, -300),
        round_("FY2570-H1", -10, 20),
        round_("FY2570-FY", 30, 90),
    ]
    assert current_round(rounds, NOW) == "FY2570-H1"
    assert current_round(rounds, NOW + timedelta(days=25)) == "FY2570-FY"  # none open
    assert current_round([], NOW) is None


def test_breadcrumbs_run_from_the_scope_down_and_never_above() -> None:
    assert trail("PMO/BMA", "PMO/BMA/DISTRICT/NORTH") == [
        "PMO/BMA",
        "PMO/BMA/DISTRICT",
        "PMO/BMA/DISTRICT/NORTH",
    ]
    assert trail("PMO", "PMO") == ["PMO"]
    assert trail("PMO/BMA", "PMO/MOI") == []
    assert trail("PMO/BMA", "PMO/BMAX") == []  # a prefix of letters is not a parent


def test_pages_of_a_hundred() -> None:
    assert (Paging(1, 230).pages, Paging(1, 230).first, Paging(1, 230).last) == (3, 1, 100)
    assert (Paging(3, 230).offset, Paging(3, 230).first, Paging(3, 230).last) == (200, 201, 230)
    assert (Paging(1, 0).pages, Paging(1, 0).first, Paging(1, 0).last) == (1, 0, 0)


def test_the_share_submitted() -> None:
    assert submitted_share({"expected": 88, "submitted": 22}) == 25.0
    assert submitted_share({"expected": 0, "submitted": 0}) is None
