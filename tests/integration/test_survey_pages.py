"""The citizen survey on the portal's pages (issue 19, part D), on the portal's real
database with intake and the survey service replaced by in-memory fakes
(tests/support/fake_intake_offices.py, tests/support/fake_survey.py): the live tally on the
rounds page and the report form, taking it into the report without JavaScript, the source
on the review, receipt, result and office pages, what is sent to intake, and the poster for
the center and its offices only. In a browser: tests/e2e/test_survey_portal_browser.py."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.integration.test_portal_pages import CENTERS, Portal, form_fields
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_offices import FakeIntakeOffices, fake_with_offices
from tests.support.fake_survey import POSTER, FakeSurvey
from tests.support.isolation import Isolated
from tests.support.samples import standard

C = "saraban@bangrak.go.th"  # GECC-0003, PMO/BMA/DISTRICT: nothing sent yet
D = "saraban@dusit.go.th"  # GECC-0002, the same office: another center
BMA = "office@bma.go.th"
MOI = "office@moi.go.th"
CENTER = "GECC-0003"
QUESTIONS = [q.code for q in standard().questions]


class SurveyPortal(Portal):
    survey: FakeSurvey


@pytest.fixture
async def portal(isolated: Isolated) -> AsyncIterator[SurveyPortal]:
    database = isolated.service_url("portal")
    settings = PortalSettings(
        database_url=database,
        public_url="http://127.0.0.1:8084",
        survey_public_url="https://survey.example.go.th",
    )
    app = create_app(settings)
    intake = fake_with_offices(
        CENTERS, {C: CENTER, D: "GECC-0002"}, {BMA: "PMO/BMA", MOI: "PMO/MOI"}
    )
    survey = FakeSurvey({CENTER, "GECC-0002"})
    async with app.router.lifespan_context(app):
        app.state.intake = intake
        app.state.survey = survey
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            running = SurveyPortal(client, intake, database)
            running.survey = survey
            yield running


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def value_of(html: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}"[^>]*?value="([^"]*)"', html, re.S)
    if found is None:
        found = re.search(rf'value="([^"]*)"[^>]*?name="{re.escape(name)}"', html, re.S)
    assert found, f"no control {name}"
    return found.group(1)


def answered(portal: SurveyPortal) -> None:
    """Six citizens: two 5s, three 4s, one 3 to every question."""
    portal.survey.many(CENTER, ROUND, QUESTIONS, [5, 5, 4, 4, 4, 3])


async def test_the_rounds_page_shows_the_tally_its_survey_page_and_poster(
    portal: SurveyPortal,
) -> None:
    await portal.sign_in(C)
    empty = await portal.client.get("/rounds")
    assert empty.status_code == 200
    assert "ยังไม่มีประชาชนตอบแบบสำรวจของรอบนี้" in empty.text
    answered(portal)
    page = await portal.client.get("/rounds")
    text = text_of(page.text)
    assert "ผลสำรวจความพึงพอใจจากประชาชน" in text
    assert re.search(r'data-survey="responses">6<', page.text)
    # (2*5 + 3*4 + 3) / 6 / 5 = 83.33 %
    for code in QUESTIONS:
        assert f'data-survey-percent="{code}">83.33 %<' in page.text
    assert "https://survey.example.go.th/s/GECC-0003" in page.text
    assert f'href="/centers/{CENTER}/poster.pdf"' in page.text
    assert f'data-live-tally="/rounds/{ROUND}/survey"' in page.text
    assert "<script>" not in page.text  # the page's script is its file; nothing inline


async def test_the_live_fragment_follows_the_tally(portal: SurveyPortal) -> None:
    await portal.sign_in(C)
    answered(portal)
    first = await portal.client.get(f"/rounds/{ROUND}/survey")
    assert first.status_code == 200 and 'data-survey="responses">6<' in first.text
    assert 'value="use_survey"' not in first.text  # the rounds page's: no button
    portal.survey.many(CENTER, ROUND, QUESTIONS, [1, 1])
    second = await portal.client.get(f"/rounds/{ROUND}/survey?within=form")
    assert 'data-survey="responses">8<' in second.text
    assert 'value="use_survey"' in second.text and "ใช้ผลสำรวจนี้ในรายงาน" in second.text


async def test_the_page_works_on_while_the_survey_service_is_down(portal: SurveyPortal) -> None:
    await portal.sign_in(C)
    portal.survey.down = True
    for path in ("/rounds", f"/rounds/{ROUND}/report", f"/rounds/{ROUND}/survey"):
        page = await portal.client.get(path)
        assert page.status_code == 200, path
        assert "ขณะนี้ยังแสดงผลสำรวจไม่ได้" in page.text


async def take_the_survey(portal: SurveyPortal, **changes: str) -> httpx.Response:
    """The report form posted with its "use this survey" button, as without JavaScript."""
    form = await portal.client.get(f"/rounds/{ROUND}/report")
    csrf = value_of(form.text, "csrf_token")
    fields = form_fields(csrf, **{"respondents": "", "action": "use_survey", **changes})
    return await portal.client.post(f"/rounds/{ROUND}/report", data=fields)


async def test_the_button_takes_the_tally_into_the_report_and_names_its_source(
    portal: SurveyPortal,
) -> None:
    await portal.sign_in(C)
    answered(portal)
    tally = portal.survey.tallies[(CENTER, ROUND)]
    taken = await take_the_survey(portal)
    assert taken.status_code == 200
    assert "ใส่ผลสำรวจความพึงพอใจจากประชาชนลงในรายงานและบันทึกร่างแล้ว" in taken.text
    assert value_of(taken.text, "respondents") == "6"
    for code in QUESTIONS:
        counts = [value_of(taken.text, f"count-{code}-{r}") for r in range(1, 6)]
        assert counts == ["0", "0", "1", "3", "2"]
    assert re.search(r'id="respondents"[^>]*readonly', taken.text, re.S)
    assert value_of(taken.text, "source") == "citizen_survey"
    assert value_of(taken.text, "source-revision") == str(tally.revision)
    assert 'data-source="citizen_survey"' in taken.text
    # the checklist as it was typed
    item = standard().items[0].code
    assert re.search(rf'id="met-{item}-yes"[^>]*checked', taken.text)
    drafts = await portal.sql("SELECT fields FROM portal.drafts WHERE center_id = $1", CENTER)
    assert '"citizen_survey"' in drafts[0]["fields"]

    # more answers arrive meanwhile: the report keeps the tally it took
    portal.survey.many(CENTER, ROUND, QUESTIONS, [2])
    review = await portal.client.post(
        f"/rounds/{ROUND}/report",
        data={**hidden_and_typed(taken.text), "action": "review"},
    )
    assert review.status_code == 303, text_of(review.text)[:600]
    shown = await portal.client.get(f"/rounds/{ROUND}/review")
    assert "ผลสำรวจความพึงพอใจจากประชาชน 6 คำตอบ" in text_of(shown.text)
    key = value_of(shown.text, "key")
    sent = await portal.client.post(
        f"/rounds/{ROUND}/submit",
        data={"csrf_token": value_of(shown.text, "csrf_token"), "key": key},
    )
    assert sent.status_code == 303
    report = only_report(portal)
    assert report["satisfaction"]["respondents"] == 6
    assert report["satisfaction"]["source"] == {
        "kind": "citizen_survey",
        "responses": 6,
        "revision": tally.revision,
        "tallied_at": tally.tallied_at.isoformat().replace("+00:00", "Z"),
    }
    receipt = await portal.client.get(sent.headers["location"])
    assert "ผลสำรวจความพึงพอใจจากประชาชน 6 คำตอบ" in text_of(receipt.text)
    submission_id = report_submission(portal)
    result = await portal.client.get(f"/submissions/{submission_id}")
    assert 'data-source="citizen_survey"' in result.text
    rounds = await portal.client.get("/rounds")
    assert re.search(r'data-source="citizen_survey">สำรวจจากประชาชน 6 คำตอบ<', rounds.text)

    # the office above reads it too, in its lists and the report read-only
    await portal.client.post("/sign-out", data={"csrf_token": value_of(result.text, "csrf_token")})
    await portal.sign_in(BMA)
    office_report = await portal.client.get(f"/centers/{CENTER}/rounds/{ROUND}")
    assert "ผลสำรวจความพึงพอใจจากประชาชน 6 คำตอบ" in text_of(office_report.text)


def hidden_and_typed(html: str) -> dict[str, str]:
    """Every control of the form as the page has it (what a browser posts back)."""
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]+>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or 'type="file"' in tag:
            continue
        if 'type="radio"' in tag and "checked" not in tag:
            continue
        fields[name.group(1)] = value.group(1) if value else ""
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>([^<]*)</textarea>', html):
        fields[name] = text
    return fields


def only_report(portal: SurveyPortal) -> dict[str, Any]:
    intake = portal.intake
    assert isinstance(intake, FakeIntakeOffices)
    (found,) = [s for s in intake.submissions.values() if s["center_id"] == CENTER]
    report: dict[str, Any] = found["versions"][-1]["report"]
    return report


def report_submission(portal: SurveyPortal) -> str:
    (found,) = [s for s in portal.intake.submissions.values() if s["center_id"] == CENTER]
    return str(found["id"])


async def test_without_a_tally_the_button_changes_nothing(portal: SurveyPortal) -> None:
    await portal.sign_in(C)
    taken = await take_the_survey(portal, respondents="412")
    assert "ยังไม่มีผลสำรวจจากประชาชนให้ใช้ในรอบนี้" in taken.text
    assert value_of(taken.text, "respondents") == "412"
    assert 'data-source="center_survey"' in taken.text


async def test_own_figures_end_the_source_and_a_changed_count_is_refused_until_then(
    portal: SurveyPortal,
) -> None:
    await portal.sign_in(C)
    answered(portal)
    taken = await take_the_survey(portal)
    typed = {**hidden_and_typed(taken.text), "respondents": "500", "action": "review"}
    refused = await portal.client.post(f"/rounds/{ROUND}/report", data=typed)
    assert refused.status_code == 422
    assert "จำนวนผู้ตอบต้องเท่ากับจำนวนคำตอบในผลสำรวจที่ใช้ (6)" in refused.text
    own = await portal.client.post(
        f"/rounds/{ROUND}/report", data={**hidden_and_typed(taken.text), "action": "own_figures"}
    )
    assert "ตัวเลขความพึงพอใจเป็นของศูนย์เองแล้ว" in own.text
    assert 'data-source="center_survey"' in own.text
    assert not re.search(r'id="respondents"[^>]*readonly', own.text, re.S)
    review = await portal.client.post(
        f"/rounds/{ROUND}/report",
        data={**hidden_and_typed(own.text), "respondents": "500", "action": "review"},
    )
    assert review.status_code == 303
    shown = await portal.client.get(f"/rounds/{ROUND}/review")
    assert "การสำรวจของศูนย์เอง" in text_of(shown.text)


async def test_the_office_lists_name_each_reports_source(portal: SurveyPortal) -> None:
    await portal.sign_in(BMA)
    page = await portal.client.get(f"/office/{ROUND}/PMO/BMA?list=centers")
    assert page.status_code == 200
    row = page.text.split('data-center="GECC-0004"', 1)[1].split("</tr>", 1)[0]
    assert "สำรวจจากประชาชน 304 คำตอบ" in row
    row = page.text.split('data-center="GECC-0001"', 1)[1].split("</tr>", 1)[0]
    assert "การสำรวจของศูนย์เอง" in row


@pytest.mark.parametrize(
    ("who", "center", "status"),
    [
        (C, CENTER, 200),  # the center itself
        (C, "GECC-0002", 404),  # another center
        (BMA, CENTER, 200),  # the office above it
        (MOI, CENTER, 404),  # an office elsewhere
        (BMA, "GECC-0404", 404),  # no such center
    ],
)
async def test_the_poster_is_for_the_center_and_its_offices(
    portal: SurveyPortal, who: str, center: str, status: int
) -> None:
    await portal.sign_in(who)
    poster = await portal.client.get(f"/centers/{center}/poster.pdf")
    assert poster.status_code == status
    if status == 200:
        assert poster.headers["content-type"] == "application/pdf"
        assert "attachment" in poster.headers["content-disposition"]
        assert poster.content == POSTER
    assert portal.survey.posters == ([center] if status == 200 else [])


async def test_the_poster_asks_for_a_sign_in_first(portal: SurveyPortal) -> None:
    poster = await portal.client.get(f"/centers/{CENTER}/poster.pdf")
    assert poster.status_code == 303
    assert poster.headers["location"].startswith(f"/sign-in?next=/centers/{CENTER}/poster.pdf")
    assert portal.survey.posters == []


async def test_the_poster_while_the_survey_service_is_away_is_a_page_saying_so(
    portal: SurveyPortal,
) -> None:
    await portal.sign_in(C)
    portal.survey.down = True
    poster = await portal.client.get(f"/centers/{CENTER}/poster.pdf")
    assert poster.status_code == 503 and poster.headers["retry-after"] == "10"
    assert "ระบบขัดข้องชั่วคราว" in poster.text


async def test_the_survey_in_english(portal: SurveyPortal) -> None:
    await portal.sign_in(C)
    answered(portal)
    await portal.client.get("/lang/en?next=/rounds")
    rounds = text_of((await portal.client.get("/rounds")).text)
    assert "Citizen satisfaction survey" in rounds and "Download the QR code poster" in rounds
    taken = await take_the_survey(portal)
    text = text_of(taken.text)
    assert "The citizen survey is in the report and the draft is saved." in text
    assert "Citizen survey, 6 responses" in text and "Type my own figures" in text
