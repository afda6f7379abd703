import pytest

from services.scoring.domain.explanations import explain
from services.scoring.domain.history import compare, previous_round_id
from shared.events import PreviousResult
from tests.support.samples import standard


def test_previous_round_of_a_twelve_month_round_is_its_six_month_round() -> None:
    assert previous_round_id("FY2570-FY") == "FY2570-H1"
    assert previous_round_id("FY2570-H1") == "FY2569-FY"
    with pytest.raises(ValueError):
        previous_round_id("2570")


def test_change_against_the_previous_round() -> None:
    before = PreviousResult(
        round_id="FY2569-FY", verdict="at_risk", satisfaction_percent=84.0, checklist_percent=90.0
    )
    assert compare("maintained", 88.5, 85.0, before) == ("improved", 4.5, -5.0)
    assert compare("not_maintained", 90.0, 90.0, before) == ("worsened", 6.0, 0.0)
    assert compare("at_risk", 84.0, 90.0, before) == ("unchanged", 0.0, 0.0)
    assert compare("maintained", 90.0, 90.0, None) == ("first_result", None, None)


@pytest.mark.parametrize(
    ("code", "detail", "thai", "english"),
    [
        (
            "mandatory_item_not_met",
            {"item": "P01"},
            "ไม่ผ่านเกณฑ์บังคับข้อ P01: มีป้ายสัญลักษณ์",
            "Mandatory item P01 not met: GECC sign",
        ),
        (
            "satisfaction_below_threshold",
            {"percent": 80.5, "threshold": 85.0},
            "ความพึงพอใจร้อยละ 80.5 ต่ำกว่าเกณฑ์ร้อยละ 85.0",
            "Satisfaction 80.5 %",
        ),
        (
            "checklist_below_threshold",
            {"percent": 70.0, "threshold": 80.0},
            "ผลการประเมินตนเองร้อยละ 70.0",
            "below the 80.0 % threshold",
        ),
        (
            "sample_too_small",
            {"sample": 12, "question": "S1", "respondents": 12, "minimum": 30},
            "ข้อคำถามที่มีผู้ตอบน้อยที่สุด (S1) มีผู้ตอบ 12 คน น้อยกว่าขั้นต่ำ 30 คน",
            "The smallest number of answers to a question was 12 (S1), fewer than the minimum"
            " of 30",
        ),
        (
            "sample_too_small",
            {"sample": 1, "question": "S3", "respondents": 30, "minimum": 30},
            "มีผู้ตอบ 1 คน น้อยกว่าขั้นต่ำ 30 คน (แจ้งผู้ตอบแบบสำรวจ 30 คน)",
            "was 1 (S3), fewer than the minimum of 30 (30 respondents declared)",
        ),
    ],
)
def test_every_reason_is_worded_in_thai_and_english(
    code: str, detail: dict[str, float | int | str], thai: str, english: str
) -> None:
    reason = explain(standard(), code, detail)
    assert (reason.code, reason.detail) == (code, detail)
    assert thai in reason.text_th
    assert english in reason.text_en
