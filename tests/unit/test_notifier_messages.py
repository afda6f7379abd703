from datetime import UTC, datetime
from uuid import UUID

import jinja2
import pytest

from services.intake.domain.rounds import default_round
from services.notifier.domain import messages
from services.notifier.domain.messages import (
    CenterContact,
    CenterRef,
    Flagged,
    Kind,
    Message,
    OfficeTotals,
)
from services.notifier.domain.rendering import TEMPLATES, render
from services.notifier.domain.schedule import RoundSnapshot
from shared.events import SourceSummary, Verdict
from shared.thai import english_date, english_datetime, thai_date, thai_datetime

_h1 = default_round(2570, "H1")
H1 = RoundSnapshot(_h1.id, _h1.opens_at, _h1.due_at, _h1.closes_at)
CENTER = CenterContact(
    "PMO/BMA/HC01", "ศูนย์บริการสาธารณสุข 1", "Public Health Center 1", "hc01@example.go.th"
)
SUBMISSION = UUID("0b7c7a52-1f44-4a53-9d1c-6c9f1e0a2b10")


def thai_then_english(message: Message) -> tuple[str, str]:
    thai, separator, english = message.body.partition("\n---\n")
    assert separator, "Thai text, then a rule, then English"
    return thai, english


def test_thai_dates_are_buddhist_era_in_bangkok_time() -> None:
    assert thai_date(H1.due_at) == "30 เมษายน 2570"
    assert thai_datetime(H1.due_at) == "30 เมษายน 2570 เวลา 23:59 น."
    # 17:30 UTC on 30 April is already 1 May in Bangkok.
    evening = datetime(2027, 4, 30, 17, 30, tzinfo=UTC)
    assert thai_datetime(evening) == "1 พฤษภาคม 2570 เวลา 00:30 น."
    assert english_date(evening) == "1 May 2570 B.E."
    assert english_datetime(evening) == "1 May 2570 B.E., 00:30 Bangkok time"
    assert thai_date(datetime(2026, 12, 31, 17, 0, tzinfo=UTC)) == "1 มกราคม 2570"
    with pytest.raises(ValueError, match="time zone"):
        thai_date(datetime(2027, 4, 30))


def test_every_kind_has_exactly_one_template() -> None:
    # Beside them, parts two kinds share (their names start with an underscore).
    names = sorted(path.name for path in TEMPLATES.iterdir() if not path.name.startswith("_"))
    assert names == sorted(f"{kind.value}.txt.j2" for kind in Kind)


def test_receipt_names_number_version_and_time_in_thai_first() -> None:
    received = datetime(2027, 4, 20, 3, 15, tzinfo=UTC)
    message = messages.receipt(
        CENTER,
        H1,
        submission_id=SUBMISSION,
        receipt_number="FY2570-H1/PMO/BMA/HC01/v2",
        version=2,
        received_at=received,
        late=False,
    )
    assert message.subject == (
        "ได้รับรายงานรอบ FY2570-H1 แล้ว เลขที่รับ FY2570-H1/PMO/BMA/HC01/v2"
        " / Report received for round FY2570-H1, receipt FY2570-H1/PMO/BMA/HC01/v2"
    )
    thai, english = thai_then_english(message)
    assert thai.startswith("เรียน ศูนย์บริการสาธารณสุข 1")
    assert "ฉบับที่: 2" in thai
    assert "ได้รับเมื่อ: 20 เมษายน 2570 เวลา 10:15 น." in thai
    assert "ล่าช้า" not in thai
    assert "Dear Public Health Center 1," in english
    assert "Received: 20 April 2570 B.E., 10:15 Bangkok time" in english
    assert message.recipient == "hc01@example.go.th"
    assert (message.kind, message.round_id, message.version) == (Kind.RECEIPT, "FY2570-H1", 2)
    assert message.submission_id == SUBMISSION
    assert message.dedupe_key == ("hc01@example.go.th", "FY2570-H1", "receipt", 2)
    assert message.data["receipt_number"] == "FY2570-H1/PMO/BMA/HC01/v2"


def test_a_late_receipt_says_so_in_both_languages() -> None:
    message = messages.receipt(
        CENTER,
        H1,
        submission_id=SUBMISSION,
        receipt_number="R",
        version=1,
        received_at=datetime(2027, 5, 3, tzinfo=UTC),
        late=True,
    )
    thai, english = thai_then_english(message)
    assert "ส่งหลังวันครบกำหนด (30 เมษายน 2570 เวลา 23:59 น.)" in thai
    assert "recorded as late" in english
    assert message.data["late"] is True


@pytest.mark.parametrize(
    ("verdict", "thai", "english"),
    [
        ("maintained", "รักษามาตรฐานได้", "Maintained"),
        ("at_risk", "มีความเสี่ยง", "At risk"),
        ("not_maintained", "ไม่สามารถรักษามาตรฐานได้", "Not maintained"),
    ],
)
def test_result_labels_every_verdict(verdict: Verdict, thai: str, english: str) -> None:
    message = messages.result(
        CENTER,
        round_id="FY2570-H1",
        submission_id=SUBMISSION,
        version=3,
        verdict=verdict,
        satisfaction_percent=91.6,
        checklist_percent=84.25,
        reasons=[],
    )
    assert message.subject == (
        f"ผลการประเมินรอบ FY2570-H1 ฉบับที่ 3: {thai}"
        f" / Result for round FY2570-H1, version 3: {english}"
    )
    body_th, body_en = thai_then_english(message)
    assert f"ผลการประเมิน: {thai}\n" in body_th
    assert "ความพึงพอใจของประชาชน: ร้อยละ 91.6" in body_th
    assert "(Self Checklist): ร้อยละ 84.3" in body_th
    assert f"Verdict: {english}\n" in body_en
    assert "เหตุผล" not in body_th
    assert message.dedupe_key == ("hc01@example.go.th", "FY2570-H1", "result", 3)


def test_result_gives_each_reason_in_its_language() -> None:
    message = messages.result(
        CENTER,
        round_id="FY2570-H1",
        submission_id=SUBMISSION,
        version=1,
        verdict="at_risk",
        satisfaction_percent=84.0,
        checklist_percent=90.0,
        reasons=[
            (
                "ความพึงพอใจร้อยละ 84.0 ต่ำกว่าเกณฑ์ร้อยละ 85",
                "Satisfaction 84.0 % is below the 85 % threshold",
            )
        ],
    )
    thai, english = thai_then_english(message)
    assert "เหตุผล:\n- ความพึงพอใจร้อยละ 84.0 ต่ำกว่าเกณฑ์ร้อยละ 85" in thai
    assert "Reasons:\n- Satisfaction 84.0 % is below the 85 % threshold" in english
    assert "Satisfaction 84.0" not in thai


def result(source: SourceSummary | None) -> Message:
    """A maintained center's result, its figures from ``source`` (None: not said)."""
    return messages.result(
        CENTER,
        round_id="FY2570-H1",
        submission_id=SUBMISSION,
        version=1,
        verdict="maintained",
        satisfaction_percent=91.6,
        checklist_percent=90.0,
        reasons=[],
        **({} if source is None else {"source": source}),
    )


def test_result_says_where_the_satisfaction_figures_come_from() -> None:
    citizen = result(SourceSummary(kind="citizen_survey", responses=412))
    thai, english = thai_then_english(citizen)
    assert (
        "ความพึงพอใจของประชาชน: ร้อยละ 91.6\n"
        "ที่มาของข้อมูลความพึงพอใจ: แบบสำรวจความพึงพอใจของประชาชนผ่านระบบ ผู้ตอบ 412 คน\n"
    ) in thai
    assert (
        "Citizen satisfaction: 91.6 %\n"
        "Where the satisfaction figures come from: the citizen survey, 412 responses\n"
    ) in english
    assert citizen.data["satisfaction_source"] == {"kind": "citizen_survey", "responses": 412}
    for own in (result(SourceSummary(kind="center_survey")), result(None)):
        thai, english = thai_then_english(own)
        assert "ที่มาของข้อมูลความพึงพอใจ: แบบสำรวจที่ศูนย์ฯ ดำเนินการเอง\n" in thai
        assert "Where the satisfaction figures come from: the center's own survey\n" in english
        assert own.data["satisfaction_source"] == {"kind": "center_survey", "responses": None}


def test_receipt_says_where_the_satisfaction_figures_come_from_as_the_result_does() -> None:
    def receipt(source: SourceSummary | None) -> Message:
        return messages.receipt(
            CENTER,
            H1,
            submission_id=SUBMISSION,
            receipt_number="FY2570-H1/PMO/BMA/HC01/v1",
            version=1,
            received_at=datetime(2027, 4, 20, 3, 15, tzinfo=UTC),
            late=False,
            **({} if source is None else {"source": source}),
        )

    citizen = SourceSummary(kind="citizen_survey", responses=412)
    thai, english = thai_then_english(receipt(citizen))
    assert (
        "ได้รับเมื่อ: 20 เมษายน 2570 เวลา 10:15 น.\n"
        "ที่มาของข้อมูลความพึงพอใจ: แบบสำรวจความพึงพอใจของประชาชนผ่านระบบ ผู้ตอบ 412 คน\n"
    ) in thai
    assert (
        "Received: 20 April 2570 B.E., 10:15 Bangkok time\n"
        "Where the satisfaction figures come from: the citizen survey, 412 responses\n"
    ) in english
    assert receipt(citizen).data["satisfaction_source"] == {
        "kind": "citizen_survey",
        "responses": 412,
    }
    own = SourceSummary(kind="center_survey")
    for source in (citizen, own):
        # The same catalogue text as the result's.
        said = [line for line in receipt(source).body.splitlines() if "ที่มา" in line]
        in_result = [line for line in result(source).body.splitlines() if "ที่มา" in line]
        assert said == in_result and len(said) == 1
        said = [line for line in receipt(source).body.splitlines() if "come from" in line]
        in_result = [line for line in result(source).body.splitlines() if "come from" in line]
        assert said == in_result and len(said) == 1
    thai, english = thai_then_english(receipt(None))
    assert "ที่มาของข้อมูลความพึงพอใจ: แบบสำรวจที่ศูนย์ฯ ดำเนินการเอง\n" in thai
    assert "Where the satisfaction figures come from: the center's own survey\n" in english


def test_reminder_tells_the_deadline_and_days_left() -> None:
    message = messages.reminder(CENTER, H1, days_before=7)
    assert message.subject.startswith("แจ้งเตือน: ครบกำหนดส่งรายงานรอบ FY2570-H1 30 เมษายน 2570 /")
    thai, english = thai_then_english(message)
    assert "ภายใน 30 เมษายน 2570 เวลา 23:59 น. (อีก 7 วัน)" in thai
    assert "by 30 April 2570 B.E., 23:59 Bangkok time (7 days from now)" in english
    assert "(1 day from now)" in messages.reminder(CENTER, H1, days_before=1).body


def test_each_reminder_offset_is_its_own_message_for_the_ledger() -> None:
    keys = {messages.reminder(CENTER, H1, days).dedupe_key for days in (14, 7, 1)}
    assert keys == {("hc01@example.go.th", "FY2570-H1", "reminder", d) for d in (14, 7, 1)}
    assert (
        messages.reminder(CENTER, H1, 7).delivery_id == messages.reminder(CENTER, H1, 7).delivery_id
    )
    assert len({messages.reminder(CENTER, H1, d).delivery_id for d in (14, 7, 1)}) == 3


def test_overdue_notice_names_due_and_close() -> None:
    message = messages.overdue(CENTER, H1)
    thai, english = thai_then_english(message)
    assert "ครบกำหนดส่งเมื่อ 30 เมษายน 2570 เวลา 23:59 น." in thai
    assert "ยังส่งได้จนถึง 14 พฤษภาคม 2570 เวลา 23:59 น." in thai
    assert "until 14 May 2570 B.E., 23:59 Bangkok time" in english
    assert message.dedupe_key == ("hc01@example.go.th", "FY2570-H1", "overdue", 0)


def test_office_summary_lists_missing_late_and_at_risk_centers() -> None:
    message = messages.office_summary(
        "PMO/BMA",
        "bma@example.go.th",
        H1,
        total=88,
        missing=[CenterRef("PMO/BMA/HC07", "ศูนย์บริการสาธารณสุข 7")],
        late=[CenterRef("PMO/BMA/HC02", "ศูนย์บริการสาธารณสุข 2")],
        at_risk=[
            Flagged(CenterRef("PMO/BMA/HC03", "ศูนย์บริการสาธารณสุข 3"), "at_risk"),
            Flagged(CenterRef("PMO/BMA/HC04", "ศูนย์บริการสาธารณสุข 4"), "not_maintained"),
        ],
    )
    assert message.subject.startswith("สรุปรอบ FY2570-H1 ของ PMO/BMA: ส่งแล้ว 87 จาก 88 ศูนย์ /")
    thai, english = thai_then_english(message)
    assert "ไม่ส่งรายงาน (1):\n- PMO/BMA/HC07 ศูนย์บริการสาธารณสุข 7\n" in thai
    assert "ส่งล่าช้า (1):\n- PMO/BMA/HC02 ศูนย์บริการสาธารณสุข 2\n" in thai
    assert "- PMO/BMA/HC03 ศูนย์บริการสาธารณสุข 3: มีความเสี่ยง\n" in thai
    assert "- PMO/BMA/HC04 ศูนย์บริการสาธารณสุข 4: ไม่สามารถรักษามาตรฐานได้\n" in thai
    assert "Need follow-up: PMO/BMA/HC03 (At risk), PMO/BMA/HC04 (Not maintained)" in english
    assert message.dedupe_key == ("bma@example.go.th", "FY2570-H1", "office_summary", 0)
    assert message.data["missing"] == ["PMO/BMA/HC07"]


def test_an_office_with_nothing_to_report_says_none() -> None:
    message = messages.office_summary(
        "PMO/MOI", "moi@example.go.th", H1, total=3, missing=[], late=[], at_risk=[]
    )
    thai, english = thai_then_english(message)
    assert thai.count("- ไม่มี") == 3
    assert "Did not report: none\nLate: none\nNeed follow-up: none\n" in english


def test_operator_summary_totals_every_office() -> None:
    totals = [
        OfficeTotals("PMO/BMA", centers=88, submitted=80, late=3, at_risk=5, not_maintained=2),
        OfficeTotals("PMO/MOI", centers=300, submitted=290, late=10, at_risk=20, not_maintained=1),
    ]
    message = messages.operator_summary("ops@example.go.th", H1, totals)
    assert message.subject == (
        "สรุปรอบ FY2570-H1 ทั้งหมด: ส่งแล้ว 370 จาก 388 ศูนย์"
        " / Round FY2570-H1 overall: 370 of 388 centers reported"
    )
    thai, english = thai_then_english(message)
    assert "- PMO/BMA: 88 / 80 / 8 / 3 / 5 / 2\n" in thai
    assert "- PMO/MOI: 300 / 290 / 10 / 10 / 20 / 1\n" in thai
    assert "Overall: 388 centers, 370 reported, 18 missing, 13 late, 25 at risk" in english


def test_a_template_variable_left_out_is_an_error_not_a_blank() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render(Kind.OVERDUE, center=CENTER)


def test_sign_in_links_go_first_then_receipts_then_results_then_everything_else() -> None:
    by_kind = {kind: Message(kind, "a@example.go.th", "s", "b", "FY2570-H1") for kind in Kind}
    order = sorted(Kind, key=lambda kind: by_kind[kind].priority)
    assert order[:3] == [Kind.SIGN_IN, Kind.RECEIPT, Kind.RESULT]
    assert [by_kind[k].priority for k in order[:3]] == [0, 1, 2]
    assert {by_kind[k].priority for k in order[3:]} == {3}


REQUEST = UUID("5d1e0c55-8a0f-4f0e-9a57-2a43c2b4f0a1")
CODE = "Zq3-x_9pLmN0aBcDeFgHiJkLmNoPqRsTuVwXyZ012345"
EXPIRES = datetime(2027, 4, 30, 17, 30, tzinfo=UTC)


def sign_in(request_id: UUID = REQUEST, portal_url: str = "https://gecc.example.go.th/") -> Message:
    return messages.sign_in_link(
        request_id=request_id,
        email="staff@example.go.th",
        code=CODE,
        expires_at=EXPIRES,
        portal_url=portal_url,
    )


def test_the_sign_in_link_says_where_until_when_once_and_what_if_not_asked_thai_first() -> None:
    message = sign_in()
    assert (message.kind, message.recipient, message.round_id) == (
        Kind.SIGN_IN,
        "staff@example.go.th",
        None,
    )
    assert message.subject.startswith("ลิงก์เข้าสู่ระบบ") and "sign-in link" in message.subject
    thai, english = thai_then_english(message)
    link = f"https://gecc.example.go.th/sign-in/{CODE}"
    assert link in thai and link in english
    assert "หมดอายุเมื่อ 1 พฤษภาคม 2570 เวลา 00:30 น." in thai
    assert "ใช้ได้ครั้งเดียว" in thai
    assert "หากท่านไม่ได้ขอเข้าสู่ระบบ ไม่ต้องดำเนินการใด ๆ" in thai
    assert "expires at 1 May 2570 B.E., 00:30 Bangkok time" in english
    assert "works once" in english
    assert "If you did not ask to sign in, you need not do anything" in english
    # Only the body carries the code: the ledger forgets it once the message has gone.
    assert Kind.SIGN_IN in messages.ONE_TIME
    assert CODE not in str(message.data) and CODE not in message.subject
    assert message.data == {"request_id": str(REQUEST), "expires_at": EXPIRES.isoformat()}


def test_a_sign_in_link_is_one_message_per_request_and_expires() -> None:
    assert sign_in().delivery_id == sign_in().delivery_id
    other = UUID("5d1e0c55-8a0f-4f0e-9a57-2a43c2b4f0a2")
    assert sign_in(other).delivery_id != sign_in().delivery_id
    assert (
        sign_in(portal_url="http://127.0.0.1:8084").body.count(
            f"http://127.0.0.1:8084/sign-in/{CODE}\n"
        )
        == 2
    )
    assert not sign_in().expired(datetime(2027, 4, 30, 17, 29, 59, tzinfo=UTC))
    assert sign_in().expired(EXPIRES)
    assert not messages.receipt(
        CENTER,
        H1,
        submission_id=SUBMISSION,
        receipt_number="r",
        version=1,
        received_at=EXPIRES,
        late=False,
    ).expired(datetime(2100, 1, 1, tzinfo=UTC))
