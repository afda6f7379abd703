"""The parent offices' pages on the portal's real database with a fake intake that knows
offices and operators (tests/support/fake_intake_offices.py, its numbers counted by hand):
the numbers on the page are intake's, drill-down and breadcrumbs stay within the session's
scope, the lists are paged, files pass through, the live fragment, a center's report
read-only, and who may open which page (200, 303, 404)."""

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.portal.app import create_app
from services.portal.settings import PortalSettings
from tests.integration.test_portal_pages import CENTERS, A, Portal
from tests.support.fake_intake import ROUND
from tests.support.fake_intake_offices import OLD_ROUND, FakeIntakeOffices, fake_with_offices
from tests.support.isolation import Isolated

BMA = "office@bma.go.th"
MOI = "office@moi.go.th"
OPERATOR = "ops@opdc.go.th"
COUNTS = ("expected", "submitted", "on_time", "late", "missing")
VERDICTS = ("maintained", "at_risk", "not_maintained", "pending")


@pytest.fixture
async def portal(isolated: Isolated) -> AsyncIterator[Portal]:
    database = isolated.service_url("portal")
    settings = PortalSettings(database_url=database, public_url="http://127.0.0.1:8084")
    app = create_app(settings)
    fake = fake_with_offices(
        CENTERS, {A: "GECC-0001"}, {BMA: "PMO/BMA", MOI: "PMO/MOI", OPERATOR: None}
    )
    async with app.router.lifespan_context(app):
        app.state.intake = fake
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=settings.public_url) as client:
            yield Portal(client, fake, database)


def fake(portal: Portal) -> FakeIntakeOffices:
    assert isinstance(portal.intake, FakeIntakeOffices)
    return portal.intake


def numbers(html: str) -> dict[str, int]:
    """The office's own numbers on the page (its summary)."""
    summary = html.split('id="summary-title"', 1)[1].split("</section>", 1)[0]
    found = re.findall(r'data-count="(\w+)">([\d,]+)<', summary)
    return {name: int(value.replace(",", "")) for name, value in found}


def row_numbers(html: str, office: str) -> dict[str, int]:
    row = html.split(f'data-office="{office}"', 1)[1].split("</tr>", 1)[0]
    found = re.findall(r'data-count="(\w+)">([\d,]+)<', row)
    return {name: int(value.replace(",", "")) for name, value in found}


def intake_numbers(level: dict[str, Any]) -> dict[str, int]:
    return {**{k: level[k] for k in COUNTS}, **level["verdicts"]}


async def test_an_office_lands_on_its_subtree_and_sees_intakes_numbers(portal: Portal) -> None:
    signed_in = await portal.sign_in(BMA)
    assert signed_in.headers["location"] == "/office"
    assert (await portal.client.get("/")).headers["location"] == "/office"
    home = await portal.client.get("/office")
    assert home.status_code == 303 and home.headers["location"] == f"/office/{ROUND}/PMO/BMA"
    page = await portal.client.get(home.headers["location"])
    assert page.status_code == 200
    token = next(iter(fake(portal).office_sessions))
    api = await fake(portal).completeness(token, ROUND, "PMO/BMA", depth=1)
    own, *children = api["levels"]
    assert numbers(page.text) == intake_numbers(own)
    assert [c["office_path"] for c in children] == ["PMO/BMA/DISTRICT", "PMO/BMA/HEALTH"]
    for child in children:
        assert row_numbers(page.text, child["office_path"]) == intake_numbers(child)
        assert f'href="/office/{ROUND}/{child["office_path"]}">{child["name_th"]}</a>' in page.text
    assert "<h1>กรุงเทพมหานคร" in page.text
    assert "ส่งรายงานแล้ว 3 จาก 5 แห่ง (60.00 %)" in page.text
    # the header's navigation is an office's
    assert 'href="/office" aria-current="page">ความครบถ้วนของรายงาน' in page.text
    assert 'href="/rounds"' not in page.text


async def test_breadcrumbs_go_up_to_the_scope_and_never_above(portal: Portal) -> None:
    await portal.sign_in(BMA)
    page = await portal.client.get(f"/office/{ROUND}/PMO/BMA/DISTRICT")
    crumbs = page.text.split('class="breadcrumbs"', 1)[1].split("</nav>", 1)[0]
    assert f'<a href="/office/{ROUND}/PMO/BMA">กรุงเทพมหานคร</a>' in crumbs
    assert '<span aria-current="page">สำนักงานเขต</span>' in crumbs
    assert f'"/office/{ROUND}/PMO"' not in page.text  # the PMO is above the BMA's scope
    assert numbers(page.text) == intake_numbers(fake(portal).levels[2])
    assert 'id="children-title"' not in page.text  # no office below


async def test_the_lists_name_each_center_and_link_its_report(portal: Portal) -> None:
    await portal.sign_in(BMA)
    missing = await portal.client.get(f"/office/{ROUND}/PMO/BMA")
    rows = re.findall(r'data-center="([\w-]+)"', missing.text)
    assert rows == ["GECC-0003", "GECC-0005"]
    assert f'href="/centers/GECC-0003/rounds/{ROUND}">สำนักงานเขตบางรัก</a>' in missing.text
    for name, total in (("missing", 2), ("late", 1), ("follow_up", 1), ("centers", 5)):
        assert re.search(rf'\?list={name}"[^>]*>[^<(]+\({total}\)</a>', missing.text), name
    follow = await portal.client.get(f"/office/{ROUND}/PMO/BMA?list=follow_up")
    assert re.findall(r'data-center="([\w-]+)"', follow.text) == ["GECC-0002"]
    assert "ความพึงพอใจต่ำกว่าร้อยละ 80" in follow.text and "มีความเสี่ยง" in follow.text
    every = await portal.client.get(f"/office/{ROUND}/PMO/BMA?list=centers")
    assert len(re.findall(r'data-center="', every.text)) == 5
    assert "ส่งล่าช้า · มีความเสี่ยง" in every.text and "ส่งตรงเวลา · รอผลการประเมิน" in every.text
    bad = await portal.client.get(f"/office/{ROUND}/PMO/BMA?list=everyone")
    assert bad.status_code == 400


async def test_long_lists_come_a_hundred_a_page(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    first = await portal.client.get(f"/office/{ROUND}/PMO/MOI/DOPA?list=missing")
    assert len(re.findall(r'data-center="', first.text)) == 100
    assert "แสดงลำดับที่ 1\u2013100 จากทั้งหมด 230 แห่ง" in first.text and "หน้า 1 จาก 3" in first.text
    assert "list=missing&amp;page=2" in first.text and 'rel="prev"' not in first.text
    last = await portal.client.get(f"/office/{ROUND}/PMO/MOI/DOPA?list=missing&page=3")
    assert len(re.findall(r'data-center="', last.text)) == 30
    assert 'rel="next"' not in last.text and "list=missing&amp;page=2" in last.text
    assert (await portal.client.get(f"/office/{ROUND}/PMO?page=zero")).status_code == 400


async def test_an_operator_starts_at_the_whole_registry(portal: Portal) -> None:
    await portal.sign_in(OPERATOR)
    assert (await portal.client.get("/")).headers["location"] == "/office"
    home = await portal.client.get("/office")
    assert home.headers["location"] == f"/office/{ROUND}/PMO"
    page = await portal.client.get(home.headers["location"])
    assert numbers(page.text) == intake_numbers(fake(portal).levels[0])
    assert re.findall(r'data-office="([\w/-]+)"', page.text) == ["PMO/BMA", "PMO/MOI"]


async def test_another_round_is_one_choice_away(portal: Portal) -> None:
    await portal.sign_in(BMA)
    page = await portal.client.get(f"/office/{ROUND}/PMO/BMA/HEALTH")
    assert f'<option value="{OLD_ROUND}">' in page.text
    assert f'<option value="{ROUND}" selected>' in page.text
    chosen = await portal.client.get(f"/office?round={OLD_ROUND}&office=PMO/BMA/HEALTH")
    assert chosen.headers["location"] == f"/office/{OLD_ROUND}/PMO/BMA/HEALTH"


async def test_files_come_through_as_intake_sends_them(portal: Portal) -> None:
    await portal.sign_in(BMA)
    answer = await portal.client.get(
        f"/office/{ROUND}/PMO/BMA/download", params={"what": "missing", "format": "csv"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="{ROUND}-PMO_BMA-missing.csv"'
    )
    assert answer.content.startswith("\ufeff".encode()) and "กรุงเทพมหานคร" in answer.text
    assert fake(portal).files == [(ROUND, "PMO/BMA", "missing", "csv")]
    xlsx = await portal.client.get(
        f"/office/{ROUND}/PMO/BMA/DISTRICT/download?what=levels&format=xlsx"
    )
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    wrong = await portal.client.get(f"/office/{ROUND}/PMO/BMA/download?what=levels&format=pdf")
    assert wrong.status_code == 400 and len(fake(portal).files) == 2


async def test_the_live_fragment_shows_reports_as_they_arrive(portal: Portal) -> None:
    await portal.sign_in(BMA)
    before = await portal.client.get(f"/office/{ROUND}/PMO/BMA/live")
    assert before.status_code == 200 and "<html" not in before.text
    assert 'data-submitted="3"' in before.text and numbers(before.text)["submitted"] == 3
    bma, district = fake(portal).levels[1], fake(portal).levels[2]
    for level in (bma, district):
        level["submitted"] += 1
        level["on_time"] += 1
        level["missing"] -= 1
        level["verdicts"]["pending"] += 1
    after = await portal.client.get(f"/office/{ROUND}/PMO/BMA/live")
    assert numbers(after.text)["submitted"] == 4 and 'data-submitted="4"' in after.text
    assert row_numbers(after.text, "PMO/BMA/DISTRICT")["missing"] == 0
    page = await portal.client.get(f"/office/{ROUND}/PMO/BMA")
    assert f'data-live="/office/{ROUND}/PMO/BMA/live"' in page.text
    assert '<script src="/static/js/office.js" defer></script>' in page.text
    assert f'href="/office/{ROUND}/PMO/BMA">โหลดข้อมูลล่าสุด</a>' in page.text  # without script


async def test_a_centers_report_is_read_only_with_its_versions(portal: Portal) -> None:
    await portal.sign_in(BMA)
    page = await portal.client.get(f"/centers/GECC-0002/rounds/{ROUND}")
    assert page.status_code == 200
    assert "<h1>สำนักงานเขตดุสิต</h1>" in page.text and "รายงานนี้แสดงเพื่ออ่านเท่านั้น" in page.text
    assert "มีความเสี่ยง" in page.text and "ความพึงพอใจต่ำกว่าร้อยละ 80" in page.text
    assert f'href="/centers/GECC-0002/rounds/{ROUND}?version=1"' in page.text
    assert f"{ROUND}/GECC-0002/v1" in page.text and "302" in page.text  # its respondents
    assert "แก้ไขรายงาน" not in page.text and "/report" not in page.text  # no amend
    one = await portal.client.get(f"/centers/GECC-0002/rounds/{ROUND}?version=1")
    assert one.status_code == 200 and "รายงานฉบับที่ 1" in one.text
    assert (
        await portal.client.get(f"/centers/GECC-0002/rounds/{ROUND}?version=2")
    ).status_code == 404
    none = await portal.client.get(f"/centers/GECC-0003/rounds/{ROUND}")
    assert none.status_code == 200 and "ศูนย์นี้ยังไม่ได้ส่งรายงานในรอบนี้" in none.text


PAGES = [
    "/office",
    f"/office/{ROUND}/PMO/BMA",
    f"/office/{ROUND}/PMO/BMA/DISTRICT?list=centers",
    f"/office/{ROUND}/PMO/BMA/live",
    f"/office/{ROUND}/PMO/BMA/download?what=levels&format=csv",
    f"/centers/GECC-0002/rounds/{ROUND}",
]


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (None, [303] * 6),
        (A, [404] * 6),  # a center's session
        (MOI, [303, 404, 404, 404, 404, 404]),  # another subtree (its /office: its own)
        (BMA, [303, 200, 200, 200, 200, 200]),
        (OPERATOR, [303, 200, 200, 200, 200, 200]),
    ],
)
async def test_who_may_open_which_page(
    portal: Portal, who: str | None, expected: list[int]
) -> None:
    if who is not None:
        await portal.sign_in(who)
    answers = [(await portal.client.get(path)).status_code for path in PAGES]
    assert answers == expected
    if who in (A, MOI):  # the portal's own 404 page
        assert "ไม่พบหน้าที่ต้องการ" in (await portal.client.get(PAGES[1])).text
