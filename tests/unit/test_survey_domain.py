"""The survey's pure rules: visit tokens, which rounds a day counts for, the answers read
from a form, the event a response becomes, and the page's weight."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.survey.app import newest_standard
from services.survey.domain.directory import Center, Directory, Round, bangkok_day
from services.survey.domain.responses import answers_of, event_id
from services.survey.domain.tokens import Check, UsedVisits, VisitTokens
from services.survey.entrypoints.i18n import Catalogue
from services.survey.entrypoints.pages import Pages, style_hash
from services.survey.handlers.responses import Desk
from services.survey.settings import SurveySettings
from shared.clock import ManualClock
from shared.events import Envelope, SurveyResponse
from shared.standards import load_catalog

TOKENS = VisitTokens(b"secret", 7200)
NOW = 1_800_000_000.0
CENTER = Center("GECC-0001", "ศูนย์ราชการสะดวก สำนักงานเขตพระนคร")
FONT = Path(__file__).resolve().parents[2] / "services/survey/static/fonts"


def test_a_token_is_good_for_its_center_and_device_until_it_expires() -> None:
    token = TOKENS.issue("GECC-0001", "device-a", NOW)
    check, visit = TOKENS.check(token, "GECC-0001", "device-a", NOW + 7199)
    assert check is Check.OK and visit == token.split(".")[0]
    assert TOKENS.check(token, "GECC-0001", "device-a", NOW + 7201)[0] is Check.EXPIRED
    assert TOKENS.check(token, "GECC-0002", "device-a", NOW)[0] is Check.INVALID
    assert TOKENS.check(token, "GECC-0001", "device-b", NOW)[0] is Check.INVALID
    assert (
        VisitTokens(b"other", 7200).check(token, "GECC-0001", "device-a", NOW)[0] is Check.INVALID
    )


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "a.1.c.d", "a.١٢٣.c", "a.-5.c", "..", "a.99999999999999999.c"]
)
def test_a_malformed_or_altered_token_is_invalid_never_an_error(token: str) -> None:
    assert TOKENS.check(token, "GECC-0001", "device-a", NOW)[0] is Check.INVALID


def test_an_altered_issue_time_breaks_the_signature() -> None:
    visit, issued, mac = TOKENS.issue("GECC-0001", "d", NOW).split(".")
    younger = f"{visit}.{int(issued) + 3600}.{mac}"
    assert TOKENS.check(younger, "GECC-0001", "d", NOW + 7300)[0] is Check.INVALID


def test_a_visit_serves_once_until_it_would_have_expired_and_memory_stays_bounded() -> None:
    used = UsedVisits(lifetime_seconds=100, capacity=3)
    assert used.use("a", 0) and not used.use("a", 50)
    used.release("a")
    assert used.use("a", 60)
    assert used.use("b", 61) and used.use("c", 62)
    assert used.use("d", 63)  # over capacity: the oldest forgotten
    assert len(used) == 3 and "a" not in used
    used.use("e", 200)  # the others expired
    assert len(used) == 1


def calendar() -> Directory:
    return Directory.of(
        [CENTER],
        [
            Round("FY2570-H1", "H1", date(2026, 10, 1), date(2027, 3, 31)),
            Round("FY2570-FY", "FY", date(2026, 10, 1), date(2027, 9, 30)),
            Round("FY2569-FY", "FY", date(2025, 10, 1), date(2026, 9, 30)),
        ],
    )


@pytest.mark.parametrize(
    ("moment", "rounds"),
    [
        (datetime(2026, 12, 7, 3, tzinfo=UTC), ["FY2570-FY", "FY2570-H1"]),
        (datetime(2027, 3, 31, 16, 59, tzinfo=UTC), ["FY2570-FY", "FY2570-H1"]),
        # 17:00 UTC on 31 March is 1 April in Bangkok: the fiscal-year round only.
        (datetime(2027, 3, 31, 17, 0, tzinfo=UTC), ["FY2570-FY"]),
        (datetime(2027, 9, 30, 12, tzinfo=UTC), ["FY2570-FY"]),
        (datetime(2026, 9, 30, 17, 30, tzinfo=UTC), ["FY2570-FY", "FY2570-H1"]),
        (datetime(2026, 9, 30, 16, 30, tzinfo=UTC), ["FY2569-FY"]),
        (datetime(2027, 10, 1, 3, tzinfo=UTC), []),
    ],
)
def test_a_response_counts_for_every_round_whose_period_holds_its_bangkok_day(
    moment: datetime, rounds: list[str]
) -> None:
    assert sorted(calendar().rounds_on(bangkok_day(moment))) == rounds


def test_answers_are_read_for_the_standards_questions_only() -> None:
    form = {"q_S1": "5", "q_S2": "0", "q_S3": "٣", "q_S4": " 4", "q_X": "3", "token": "t"}
    answers = answers_of(form, ["S1", "S2", "S3", "S4", "S5"])
    assert answers.ratings == {"S1": 5}
    assert answers.missing == ("S2", "S3", "S4", "S5")
    assert not answers.complete


def test_the_same_device_center_and_day_is_the_same_event() -> None:
    day = date(2026, 12, 7)
    assert event_id("d1", "GECC-0001", day) == event_id("d1", "GECC-0001", day)
    assert event_id("d1", "GECC-0001", day) != event_id("d2", "GECC-0001", day)
    assert event_id("d1", "GECC-0001", day) != event_id("d1", "GECC-0002", day)
    assert event_id("d1", "GECC-0001", day) != event_id("d1", "GECC-0001", date(2026, 12, 8))


def test_the_record_is_a_survey_response_envelope() -> None:
    answered_at = datetime(2026, 12, 7, 3, tzinfo=UTC)
    desk = Desk(
        tokens=TOKENS,
        used=UsedVisits(7200, 10),
        producer=None,  # type: ignore[arg-type]
        clock=ManualClock(answered_at),
        standard="gecc-maintenance-2570",
        questions=("S1", "S2"),
    )
    raw = desk.record(
        "GECC-0001", "d1", ["FY2570-H1", "FY2570-FY"], {"S1": 5, "S2": 1}, answered_at
    )
    event = Envelope[SurveyResponse].model_validate_json(raw)
    assert event.event_id == event_id("d1", "GECC-0001", date(2026, 12, 7))
    assert event.occurred_at == answered_at
    assert event.producer == "survey" and event.schema_version == 1
    assert event.data == SurveyResponse(
        center_id="GECC-0001",
        round_ids=["FY2570-H1", "FY2570-FY"],
        standard="gecc-maintenance-2570",
        ratings={"S1": 5, "S2": 1},
        answered_at=answered_at,
    )


QUESTIONS = newest_standard(load_catalog(SurveySettings().standards_dir)).questions


def pages() -> Pages:
    return Pages(Catalogue.load(), QUESTIONS)


def test_the_whole_page_with_its_font_is_under_30_kb() -> None:
    page = pages().blank_form(CENTER, TOKENS.issue(CENTER.center_id, "d", NOW))
    font = (FONT / "sarabun-thai-400-normal.woff2").stat().st_size
    assert len(page) + font < 30 * 1024, (len(page), font)
    assert b"<script" not in page
    assert page.count(b'type="radio"') == 5 * len(
        newest_standard(load_catalog(SurveySettings().standards_dir)).questions
    )


def test_the_blank_form_is_kept_and_only_the_token_changes() -> None:
    kept = pages()
    first = kept.blank_form(CENTER, "token-one")
    second = kept.blank_form(CENTER, "token-two")
    assert first.replace(b"token-one", b"token-two") == second
    assert kept.form(CENTER, "token-one") == first
    renamed = Center(CENTER.center_id, "ศูนย์ใหม่")
    assert "ศูนย์ใหม่".encode() in kept.blank_form(renamed, "t")


def test_every_page_renders_from_the_catalogue_and_its_style_has_the_policys_hash() -> None:
    kept = pages()
    for kind in ("thanks", "repeat", "closed", "not_found", "too_large", "error"):
        assert kept.text(f"{kind}.title").encode() in kept.message(kind, CENTER)
    filled = kept.form(CENTER, "t", {"S1": 4}, ["S2"], kept.text("survey.expired"))
    assert filled.count(b" checked>") == 1 and b'id="q-S2" class="missing"' in filled
    assert style_hash(kept.css).startswith("'sha256-")
    assert f"<style>{kept.css}</style>".encode() in filled


def test_the_form_is_read_like_a_browser_sends_it() -> None:
    from services.survey.entrypoints.public import form_of

    body = "token=a.1.b&website=&q_S1=5&q_S1=1&note=%E0%B8%94%E0%B8%B5+%E0%B8%A1%E0%B8%B2%E0%B8%81"
    assert form_of(body) == {
        "token": "a.1.b",
        "website": "",
        "q_S1": "5",
        "note": "ดี มาก",
    }
    assert len(form_of("&".join(f"f{n}=1" for n in range(500)))) == 64


def test_a_visit_released_and_used_again_is_kept_for_its_new_time() -> None:
    used = UsedVisits(lifetime_seconds=100, capacity=10)
    used.use("a", 0)
    used.release("a")
    used.use("a", 50)
    used.use("b", 101)  # the first use of "a" expired; its second has not
    assert "a" in used and not used.use("a", 120)
    used.use("c", 151)
    assert "a" not in used
