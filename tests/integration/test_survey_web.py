"""The survey's public page against the real broker and database: an accepted response is
on the responses topic (key: the center) before the citizen sees the thank-you page; every
refusal is counted by its reason; a repeat the same day is told so and is the same event;
while Kafka is unreachable the page answers 503 with the answers kept."""

import re
import time
import zlib
from datetime import UTC, datetime

import httpx
import pytest

from services.survey.adapters import directory
from services.survey.domain.directory import bangkok_day
from services.survey.domain.responses import event_id
from services.survey.domain.tokens import VisitTokens
from shared.database import connect
from shared.events import Envelope, SurveyResponse
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.polling import eventually
from tests.support.served_survey import CENTER, Served, announce, rounds_around, served_survey

PAGE = f"/s/{CENTER.center_id}"
CODES = [f"S{n}" for n in range(1, 9)]
ALL_ANSWERS = {f"q_{code}": str(n % 5 + 1) for n, code in enumerate(CODES)}


def token_in(html: str) -> str:
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def form_token(client: httpx.AsyncClient) -> str:
    page = await client.get(PAGE)
    assert page.status_code == 200, page.text[:300]
    return token_in(page.text)


async def refusals(served: Served) -> dict[str, float]:
    async with served.client() as client:
        text = (await client.get("/metrics")).text
    found = re.findall(r'gecc_survey_refusals_total\{reason="([a-z_]+)"\} ([0-9.]+)', text)
    return {reason: float(value) for reason, value in found if float(value)}


async def accepted(served: Served) -> float:
    async with served.client() as client:
        text = (await client.get("/metrics")).text
    found = re.search(r"^gecc_survey_responses_total ([0-9.]+)", text, re.M)
    return float(found.group(1)) if found else 0.0


async def test_an_accepted_response_is_on_the_topic_before_the_thanks(isolated: Isolated) -> None:
    await announce(isolated)
    async with served_survey(isolated) as served, served.client() as citizen:
        token = await form_token(citizen)
        answer = await citizen.post(PAGE, data={"token": token, "website": "", **ALL_ANSWERS})
        assert answer.status_code == 303
        assert answer.headers["location"] == f"{PAGE}/thanks"
        # Acknowledged before the answer: the record is on the topic already.
        records = await read_all(
            isolated.kafka_bootstrap, isolated.topics(Topic.SURVEY_RESPONSE), 1, within=10
        )
        assert len(records) == 1
        assert records[0].key == CENTER.center_id.encode()
        event = Envelope[SurveyResponse].model_validate_json(records[0].value)
        assert event.data.center_id == CENTER.center_id
        assert sorted(event.data.round_ids) == ["FY2570-FY", "FY2570-H1"]
        assert event.data.standard == "gecc-maintenance-2570"
        assert event.data.ratings == {code: int(ALL_ANSWERS[f"q_{code}"]) for code in CODES}
        device = citizen.cookies["gecc_device"]
        day = bangkok_day(event.data.answered_at)
        assert event.event_id == event_id(device, CENTER.center_id, day)

        thanks = await citizen.get(f"{PAGE}/thanks")
        assert "ขอบคุณที่ร่วมตอบแบบสำรวจ" in thanks.text
        assert await accepted(served) == 1

        # The same phone again today: told politely, nothing produced.
        again = await citizen.get(PAGE)
        assert again.status_code == 200
        assert "วันนี้ท่านได้ตอบแบบสำรวจของศูนย์นี้แล้ว" in again.text
        repeat = await citizen.post(PAGE, data={"token": token, **ALL_ANSWERS})
        assert "วันนี้ท่านได้ตอบแบบสำรวจของศูนย์นี้แล้ว" in repeat.text
        # Without the day's cookie the same device is the same event: tallied once.
        citizen.cookies.delete("gecc_survey_done")
        second = await citizen.post(PAGE, data={"token": await form_token(citizen), **ALL_ANSWERS})
        assert second.status_code == 303
        records = await read_all(
            isolated.kafka_bootstrap, isolated.topics(Topic.SURVEY_RESPONSE), 2, within=10
        )
        ids = {Envelope[SurveyResponse].model_validate_json(r.value).event_id for r in records}
        assert ids == {event.event_id}
        assert (await refusals(served)) == {"repeat_today": 1}


async def test_every_refusal_is_counted_by_its_reason(isolated: Isolated) -> None:
    await announce(isolated)
    secret = "a-test-secret"
    async with (
        served_survey(
            isolated, token_secret=secret, responses_per_hour=60, responses_burst=6
        ) as served,
        served.client() as citizen,
    ):
        token = await form_token(citizen)
        device = citizen.cookies["gecc_device"]
        bot = await citizen.post(PAGE, data={"token": token, "website": "x", **ALL_ANSWERS})
        assert bot.status_code == 303  # a bot is thanked and forgotten

        forged = await citizen.post(PAGE, data={"token": "a.1.b", **ALL_ANSWERS})
        assert forged.status_code == 400
        assert "คำตอบของท่านยังอยู่ครบ" in forged.text
        assert forged.text.count(" checked>") == len(CODES)

        partial = dict(ALL_ANSWERS)
        del partial["q_S3"]
        incomplete = await citizen.post(PAGE, data={"token": token, **partial})
        assert incomplete.status_code == 422
        assert "ยังไม่ได้ตอบ 1 ข้อ" in incomplete.text
        assert 'id="q-S3" class="missing"' in incomplete.text
        assert incomplete.text.count(" checked>") == len(CODES) - 1

        old = VisitTokens(secret.encode(), 7200).issue(
            CENTER.center_id, device, time.time() - 3 * 3600
        )
        expired = await citizen.post(PAGE, data={"token": old, **ALL_ANSWERS})
        assert expired.status_code == 200
        assert "เปิดไว้นานเกินไป" in expired.text
        assert expired.text.count(" checked>") == len(CODES)
        assert token_in(expired.text) != old

        ok = await citizen.post(PAGE, data={"token": token, **ALL_ANSWERS})
        assert ok.status_code == 303
        # The same visit again (a double tap) goes to the thanks; nothing more is produced.
        citizen.cookies.delete("gecc_survey_done")
        double = await citizen.post(PAGE, data={"token": token, **ALL_ANSWERS})
        assert double.status_code == 303
        # Six in a burst from one address: the seventh waits.
        limited = await citizen.post(PAGE, data={"token": token, **ALL_ANSWERS})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.text.count(" checked>") == len(CODES)

        huge = await citizen.post(PAGE, data={"token": token, "website": "", "x": "y" * 9000})
        assert huge.status_code == 413
        assert "ขนาดใหญ่เกินกำหนด" in huge.text

        unknown = await citizen.get("/s/GECC-9999")
        assert unknown.status_code == 404
        assert "ไม่พบแบบสำรวจของศูนย์นี้" in unknown.text

        assert await refusals(served) == {
            "honeypot": 1,
            "token_invalid": 1,
            "incomplete": 1,
            "token_expired": 1,
            "token_used": 1,
            "rate_limited": 1,
        }
        assert await accepted(served) == 1


async def test_503_with_the_answers_kept_while_kafka_is_unreachable(isolated: Isolated) -> None:
    conn = await connect(isolated.service_url("survey"))
    try:
        await directory.record_center(conn, CENTER)
    finally:
        await conn.close()
    async with (
        served_survey(
            isolated, ready=False, kafka_bootstrap="127.0.0.1:1", kafka_ack_seconds=1.0
        ) as served,
        served.client() as citizen,
    ):
        desk = served.app.state.desk
        await eventually(lambda: _known(desk), bool, within=10)
        closed = await citizen.get(PAGE)
        assert closed.status_code == 200
        assert "ขณะนี้ยังไม่มีการสำรวจ" in closed.text  # no round known for today
        conn = await connect(isolated.service_url("survey"))
        try:
            for scheduled in rounds_around(bangkok_day(datetime.now(UTC))):
                await directory.record_round(conn, scheduled)
        finally:
            await conn.close()
        await eventually(lambda: _rounds(desk), bool, within=10)

        token = await form_token(citizen)
        down = await citizen.post(PAGE, data={"token": token, **ALL_ANSWERS})
        assert down.status_code == 503
        assert down.headers["retry-after"] == "10"
        assert "ระบบไม่สามารถรับคำตอบได้ในขณะนี้" in down.text
        assert down.text.count(" checked>") == len(CODES)
        assert await refusals(served) == {"kafka_unavailable": 1}
        health = (await citizen.get("/health")).json()
        assert health["kafka"] != "ok"


async def _known(desk: object) -> bool:
    return CENTER.center_id in desk.directory.centers  # type: ignore[attr-defined]


async def _rounds(desk: object) -> bool:
    return bool(desk.directory.rounds)  # type: ignore[attr-defined]


async def test_the_poster_is_an_a4_pdf_with_the_thai_name_in_sarabun(isolated: Isolated) -> None:
    await announce(isolated)
    async with served_survey(isolated) as served, served.client() as client:
        answer = await client.get(f"/v1/centers/{CENTER.center_id}/poster.pdf", timeout=60)
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/pdf"
        pdf = answer.content
        assert pdf.startswith(b"%PDF")
        text = pdf + b"".join(_streams(pdf))
        assert b"/MediaBox [0 0 595" in text  # A4: 595 x 842 points
        assert b"Sarabun" in text
        assert answer.headers["x-content-type-options"] == "nosniff"
        font = await client.get("/static/fonts/sarabun-thai-400-normal.woff2")
        assert font.status_code == 200 and "max-age" in font.headers["cache-control"]
        page = await client.get(f"/s/{CENTER.center_id}")
        assert "style-src 'self' 'sha256-" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        missing = await client.get("/v1/centers/GECC-9999/poster.pdf")
        assert missing.status_code == 404


def _streams(pdf: bytes) -> list[bytes]:
    found: list[bytes] = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return found


pytestmark = pytest.mark.timeout(120)
