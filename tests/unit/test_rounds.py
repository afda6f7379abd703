from datetime import UTC, date, datetime, timedelta

import pytest

from services.intake.domain.rounds import Window, calendar, default_round, fiscal_year_of
from services.intake.domain.submissions import SubmissionRefused, accept
from services.intake.domain.thai import thai_date


def test_fiscal_year_2570_runs_october_2026_to_september_2027() -> None:
    assert fiscal_year_of(date(2026, 10, 1)) == 2570
    assert fiscal_year_of(date(2027, 9, 30)) == 2570
    assert fiscal_year_of(date(2026, 9, 30)) == 2569


def test_default_dates_of_the_six_month_round() -> None:
    h1 = default_round(2570, "H1")
    assert (h1.id, h1.period_start, h1.period_end) == (
        "FY2570-H1",
        date(2026, 10, 1),
        date(2027, 3, 31),
    )
    assert h1.opens_at == datetime(2027, 2, 28, 17, 0, tzinfo=UTC)  # 1 March, Bangkok
    assert thai_date(h1.due_at) == "30 เมษายน 2570"
    assert h1.closes_at - h1.due_at == timedelta(days=14)


def test_twelve_month_round_covers_the_fiscal_year() -> None:
    full = calendar(2570)[1]
    assert (full.id, full.period_end) == ("FY2570-FY", date(2027, 9, 30))
    assert thai_date(full.due_at) == "30 ตุลาคม 2570"


@pytest.mark.parametrize(
    ("offset", "window"),
    [
        (timedelta(seconds=-1), Window.NOT_OPEN),
        (timedelta(0), Window.OPEN),
        (timedelta(days=40), Window.OPEN),
    ],
)
def test_window_from_opening(offset: timedelta, window: Window) -> None:
    h1 = default_round(2570, "H1")
    assert h1.window(h1.opens_at + offset) is window


def test_between_due_and_close_is_late_and_after_close_is_refused() -> None:
    h1 = default_round(2570, "H1")
    assert accept(h1, h1.due_at).late is False
    assert accept(h1, h1.due_at + timedelta(seconds=1)).late is True
    assert accept(h1, h1.closes_at).late is True
    with pytest.raises(SubmissionRefused) as refused:
        accept(h1, h1.closes_at + timedelta(seconds=1))
    assert refused.value.code == "round_closed"
