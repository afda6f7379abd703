"""Intake's HTTP API on the real database (and broker), in process."""

import asyncio
import csv
import io
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake import admin
from services.intake.app import create_app
from services.intake.domain.centers import Center
from services.intake.settings import IntakeSettings
from shared.database import connect
from shared.events import Envelope, SubmissionReceived
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.samples import submission_body

ROUND = "FY2570-H1"
CENTERS = [
    Center("GECC-0001", "สำนักงานเขตพระนคร", "Phra Nakhon", "PMO/BMA/DISTRICT", "กรุงเทพมหานคร"),
    Center("GECC-0002", "สำนักงานเขตดุสิต", "Dusit", "PMO/BMA/DISTRICT", "กรุงเทพมหานคร"),
    Center(
        "GECC-0003", "สำนักงานที่ดินจังหวัดเชียงใหม่", "Chiang Mai Land Office", "PMO/MOI/DOL", "เชียงใหม่"
    ),
]
keys = (f"key-{n}" for n in itertools.count())
REASON = "ขยายเวลาตามมติที่ประชุม"


@dataclass(frozen=True)
class Intake:
    client: httpx.AsyncClient
    tokens: dict[str, str]
    db: str
    isolated: Isolated

    async def submit(
        self, who: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> httpx.Response:
        return await self.client.post(
            "/v1/submissions",
            json=body or submission_body(ROUND),
            headers={**auth(self.tokens[who]), "Idempotency-Key": key or next(keys)},
        )

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await connect(self.db)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def set_dates(db: str, round_id: str, opens: float, due: float, closes: float) -> None:
    now = datetime.now(UTC)
    conn = await asyncpg.connect(db)
    try:
        await admin.set_round_dates(
            conn, round_id, *(now + timedelta(days=d) for d in (opens, due, closes))
        )
    finally:
        await conn.close()


async def start_intake(isolated: Isolated, **settings: Any) -> AsyncIterator[Intake]:
    db = isolated.service_url("intake")
    app = create_app(
        IntakeSettings(
            database_url=db,
            kafka_bootstrap=isolated.kafka_bootstrap,
            topic_namespace=isolated.namespace,
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        conn = await asyncpg.connect(db)
        try:
            await admin.register_centers(conn, CENTERS)
            issued = {
                "a": await admin.issue_token(conn, "center", center_id="GECC-0001"),
                "b": await admin.issue_token(conn, "center", center_id="GECC-0002"),
                "c": await admin.issue_token(conn, "center", center_id="GECC-0003"),
                "bma": await admin.issue_token(conn, "office", office_path="PMO/BMA"),
                "operator": await admin.issue_token(conn, "operator", label="test"),
            }
        finally:
            await conn.close()
        await set_dates(db, ROUND, -1, 5, 9)
        tokens = {who: str(getattr(t, "token", t)) for who, t in issued.items()}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield Intake(client, tokens, db, isolated)


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[Intake]:
    async for running in start_intake(isolated):
        yield running


async def test_every_token_is_denied_every_other_centers_data(intake: Intake) -> None:
    ids = {who: (await intake.submit(who)).json()["submission_id"] for who in ("a", "b", "c")}
    for reader, (owner, submission_id) in itertools.product(("a", "b", "c"), ids.items()):
        response = await intake.client.get(
            f"/v1/submissions/{submission_id}", headers=auth(intake.tokens[reader])
        )
        assert response.status_code == (200 if reader == owner else 404), (reader, owner)
    office = {
        owner: (
            await intake.client.get(f"/v1/submissions/{i}", headers=auth(intake.tokens["bma"]))
        ).status_code
        for owner, i in ids.items()
    }
    assert office == {"a": 200, "b": 200, "c": 404}
    for i in ids.values():
        seen = await intake.client.get(
            f"/v1/submissions/{i}", headers=auth(intake.tokens["operator"])
        )
        assert seen.status_code == 200
    own = await intake.client.get(
        f"/v1/rounds/{ROUND}/submission", headers=auth(intake.tokens["b"])
    )
    assert own.json()["id"] == ids["b"]
    for writer in ("bma", "operator"):
        refused = await intake.submit(writer)
        assert refused.status_code == 403
    assert len(await intake.fetch("SELECT 1 FROM submission_versions")) == 3


async def test_repeated_idempotency_key_replays_the_first_answer(intake: Intake) -> None:
    first = await intake.submit("a", key="same")
    again = await intake.submit("a", key="same")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other_body = await intake.submit("a", submission_body(ROUND, respondents=500), key="same")
    assert other_body.status_code == 422
    assert other_body.json()["code"] == "idempotency_key_reused"
    racing = await asyncio.gather(*(intake.submit("b", key="race") for _ in range(10)))
    assert {r.status_code for r in racing} == {201}
    assert len({r.json()["submission_id"] for r in racing}) == 1
    missing = await intake.client.post(
        "/v1/submissions", json=submission_body(ROUND), headers=auth(intake.tokens["a"])
    )
    assert missing.status_code == 400
    versions = await intake.fetch("SELECT version FROM submission_versions")
    assert len(versions) == 2


async def test_amendments_are_new_versions_in_order_and_all_kept(intake: Intake) -> None:
    answers = [
        await intake.submit("a", submission_body(ROUND, respondents=500 + n)) for n in range(3)
    ]
    assert [a.json()["version"] for a in answers] == [1, 2, 3]
    shown = await intake.client.get(
        f"/v1/rounds/{ROUND}/submission", headers=auth(intake.tokens["a"])
    )
    assert [v["version"] for v in shown.json()["versions"]] == [1, 2, 3]
    bodies = await intake.fetch("SELECT body FROM submission_versions ORDER BY version")
    assert [b["body"]["satisfaction"]["respondents"] for b in bodies] == [500, 501, 502]
    # The one-statement write puts the id, version and receipt number it took into the event.
    published = await read_all(
        intake.isolated.kafka_bootstrap, intake.isolated.topics(Topic.SUBMISSION_RECEIVED), 3
    )
    events = [Envelope[SubmissionReceived].model_validate_json(r.value) for r in published]
    assert [
        (str(e.data.submission_id), e.data.version, e.data.receipt_number, e.event_id)
        for e in events
    ] == [
        (a.json()["submission_id"], a.json()["version"], a.json()["receipt_number"], e.event_id)
        for a, e in zip(answers, events, strict=True)
    ]
    assert [e.data.satisfaction.respondents for e in events] == [500, 501, 502]


async def test_late_closed_and_extended_submissions(intake: Intake) -> None:
    await set_dates(intake.db, ROUND, -9, -1, 1)
    late = await intake.submit("a")
    assert (late.status_code, late.json()["late"], late.json()["extension"]) == (201, True, False)

    await set_dates(intake.db, ROUND, -9, -5, -1)
    closed = await intake.submit("b")
    assert (closed.status_code, closed.json()["code"]) == (409, "round_closed")

    until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    grant = {"center_id": "GECC-0002", "until": until, "reason": "น้ำท่วมสำนักงาน"}
    by_center = await intake.client.post(
        f"/v1/rounds/{ROUND}/extensions", json=grant, headers=auth(intake.tokens["a"])
    )
    assert by_center.status_code == 403
    granted = await intake.client.post(
        f"/v1/rounds/{ROUND}/extensions", json=grant, headers=auth(intake.tokens["operator"])
    )
    assert granted.status_code == 201
    extended = await intake.submit("b")
    assert (extended.status_code, extended.json()["late"], extended.json()["extension"]) == (
        201,
        True,
        True,
    )
    still_closed = await intake.submit("c")
    assert still_closed.status_code == 409

    expired = {**grant, "until": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    refused = await intake.client.post(
        f"/v1/rounds/{ROUND}/extensions", json=expired, headers=auth(intake.tokens["operator"])
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "until"
    assert (await intake.submit("b")).status_code == 201  # the extension granted stands

    audit = await intake.client.get(
        "/v1/audit", params={"target": f"round:{ROUND}"}, headers=auth(intake.tokens["operator"])
    )
    entries = audit.json()
    assert [e["action"] for e in entries] == ["extension.grant"]
    assert entries[-1]["details"]["reason"] == "น้ำท่วมสำนักงาน"
    assert entries[-1]["actor"] == "operator:test"
    assert entries[-1]["remote_addr"] == "127.0.0.1"
    submissions = await intake.fetch(
        "SELECT actor FROM audit_log WHERE action = 'submission.create' ORDER BY id"
    )
    assert [s["actor"] for s in submissions] == [
        "center:GECC-0001",
        "center:GECC-0002",
        "center:GECC-0002",
    ]


async def test_operators_change_round_dates_until_the_round_closes(intake: Intake) -> None:
    later = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    by_office = await intake.client.patch(
        f"/v1/rounds/{ROUND}",
        json={"closes_at": later, "reason": REASON},
        headers=auth(intake.tokens["bma"]),
    )
    assert by_office.status_code == 403
    unexplained = await intake.client.patch(
        f"/v1/rounds/{ROUND}", json={"closes_at": later}, headers=auth(intake.tokens["operator"])
    )
    assert unexplained.status_code == 422
    assert [e["field"] for e in unexplained.json()["errors"]] == ["reason"]
    changed = await intake.client.patch(
        f"/v1/rounds/{ROUND}",
        json={"closes_at": later, "reason": REASON},
        headers=auth(intake.tokens["operator"]),
    )
    assert changed.status_code == 200
    assert changed.json()["closes_at"] == later.replace("+00:00", "Z")
    backwards = await intake.client.patch(
        f"/v1/rounds/{ROUND}",
        json={"due_at": datetime(2020, 1, 1, tzinfo=UTC).isoformat(), "reason": REASON},
        headers=auth(intake.tokens["operator"]),
    )
    assert backwards.status_code == 422
    await set_dates(intake.db, ROUND, -9, -5, -1)
    too_late = await intake.client.patch(
        f"/v1/rounds/{ROUND}",
        json={"closes_at": later, "reason": REASON},
        headers=auth(intake.tokens["operator"]),
    )
    assert (too_late.status_code, too_late.json()["code"]) == (409, "round_closed")
    assert too_late.json()["title_th"] == f"รอบ {ROUND} ปิดแล้ว เปลี่ยนกำหนดการไม่ได้"
    audit = await intake.fetch("SELECT details FROM audit_log WHERE action = 'round.change_dates'")
    assert len(audit) == 1
    assert audit[0]["details"]["after"]["closes_at"] == later
    assert audit[0]["details"]["reason"] == REASON


def malformed_bodies() -> list[tuple[str, Any]]:
    def change(edit: Any) -> dict[str, Any]:
        body = submission_body(ROUND)
        edit(body)
        return body

    return [
        ("not json", b"{satisfaction: 1"),
        ("empty", b""),
        ("a list", b"[]"),
        ("unknown field", change(lambda b: b.update(center_id="GECC-0002"))),
        (
            "string count",
            change(lambda b: b["satisfaction"]["questions"][0].update(counts=["1", 0, 0, 0, 0])),
        ),
        (
            "negative count",
            change(lambda b: b["satisfaction"]["questions"][0].update(counts=[-1, 0, 0, 0, 5])),
        ),
        (
            "four ratings",
            change(lambda b: b["satisfaction"]["questions"][0].update(counts=[1, 0, 0, 0])),
        ),
        (
            "more answers than respondents",
            change(lambda b: b["satisfaction"].update(respondents=3)),
        ),
        ("missing checklist", change(lambda b: b.pop("checklist"))),
        ("unknown item", change(lambda b: b["checklist"]["items"][0].update(code="Z99"))),
        ("unknown standard", change(lambda b: b["checklist"].update(standard="nope-1"))),
        (
            "absurd size",
            change(lambda b: b["checklist"]["items"].extend([b["checklist"]["items"][0]] * 5000)),
        ),
        ("bad round id", change(lambda b: b.update(round_id="H1"))),
        ("unknown round", change(lambda b: b.update(round_id="FY2400-H1"))),
        ("over 1 MiB", change(lambda b: b["checklist"]["items"][0].update(evidence="ก" * 400_000))),
    ]


@pytest.mark.parametrize(("case", "body"), malformed_bodies(), ids=lambda v: str(v)[:30])
async def test_malformed_bodies_are_refused_and_store_nothing(
    intake: Intake, case: str, body: Any
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await intake.client.post(
        "/v1/submissions",
        content=content,
        headers={
            **auth(intake.tokens["a"]),
            "Idempotency-Key": case,
            "Content-Type": "application/json",
        },
    )
    assert 400 <= response.status_code < 500, (case, response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == response.status_code and problem["title_th"]
    for table in ("submissions", "submission_versions", "idempotency_keys"):
        assert await intake.fetch(f"SELECT 1 FROM {table}") == [], (case, table)
    # (the outbox holds the registry and round schedules announced, no submission event)
    events = await intake.fetch("SELECT topic FROM outbox")
    assert Topic.SUBMISSION_RECEIVED.value not in {e["topic"] for e in events}, case


async def test_oversized_body_gets_413_and_fitting_errors_name_the_field(intake: Intake) -> None:
    body = submission_body(ROUND)
    body["checklist"]["items"][0]["evidence"] = "ก" * 400_000
    too_big = await intake.submit("a", body)
    assert too_big.status_code == 413
    body = submission_body(ROUND)
    body["satisfaction"]["questions"][2]["counts"] = [0, 0, 0, 0, -4]
    invalid = await intake.submit("a", body)
    assert invalid.status_code == 422
    assert [e["field"] for e in invalid.json()["errors"]] == ["satisfaction.questions.2.counts.4"]


async def test_a_token_over_its_rate_gets_429_with_retry_after(isolated: Isolated) -> None:
    async for intake in start_intake(isolated, rate_limit_per_minute=60, rate_limit_burst=5):
        statuses = [
            (await intake.client.get("/v1/rounds", headers=auth(intake.tokens["a"])))
            for _ in range(6)
        ]
        assert [s.status_code for s in statuses] == [200] * 5 + [429]
        assert int(statuses[-1].headers["Retry-After"]) >= 1
        other = await intake.client.get("/v1/rounds", headers=auth(intake.tokens["b"]))
        assert other.status_code == 200


async def test_completeness_per_office_level_for_operators_and_offices(intake: Intake) -> None:
    await intake.submit("a")
    await set_dates(intake.db, ROUND, -9, -1, 3)
    await intake.submit("b")
    url = f"/v1/rounds/{ROUND}/completeness"
    everything = (await intake.client.get(url, headers=auth(intake.tokens["operator"]))).json()
    levels = {level["office_path"]: level for level in everything["levels"]}
    top = levels["PMO"]
    assert (top["expected"], top["submitted"], top["on_time"], top["late"], top["missing"]) == (
        3,
        2,
        1,
        1,
        1,
    )
    assert top["pending"] == 2  # not scored yet: no scoring service runs in this test
    assert [c["center_id"] for c in everything["missing"]] == ["GECC-0003"]

    bma = (await intake.client.get(url, headers=auth(intake.tokens["bma"]))).json()
    assert bma["scope"] == "PMO/BMA"
    assert [level["office_path"] for level in bma["levels"]] == ["PMO/BMA", "PMO/BMA/DISTRICT"]
    assert bma["missing"] == []
    assert (await intake.client.get(url, headers=auth(intake.tokens["a"]))).status_code == 403

    csv_levels = await intake.client.get(
        url, params={"format": "csv"}, headers=auth(intake.tokens["operator"])
    )
    assert csv_levels.headers["content-type"] == "text/csv; charset=utf-8"
    assert csv_levels.content.startswith(b"\xef\xbb\xbf")
    assert (
        csv_levels.content.decode("utf-8-sig")
        .splitlines()[0]
        .startswith("office_path,name_th,name_en,depth,expected,submitted,on_time,late,missing")
    )
    csv_missing = await intake.client.get(
        url, params={"format": "csv", "view": "missing"}, headers=auth(intake.tokens["operator"])
    )
    rows = csv_missing.content.decode("utf-8-sig").splitlines()
    assert rows[1] == "GECC-0003,สำนักงานที่ดินจังหวัดเชียงใหม่,PMO/MOI/DOL,เชียงใหม่,false,false,,,,"


async def test_completeness_csv_keeps_a_center_name_a_spreadsheet_would_run_as_text(
    intake: Intake,
) -> None:
    hostile = '=HYPERLINK("http://x","y")'
    conn = await connect(intake.db)
    try:
        await admin.register_centers(
            conn, [Center("GECC-0004", hostile, "Hyperlink", "PMO/MOI/DOL", "เชียงใหม่")]
        )
    finally:
        await conn.close()
    url = f"/v1/rounds/{ROUND}/completeness"
    operator = auth(intake.tokens["operator"])
    missing = await intake.client.get(
        url, params={"format": "csv", "view": "missing"}, headers=operator
    )
    assert missing.content.startswith(b"\xef\xbb\xbf")
    header, *rows = csv.reader(io.StringIO(missing.content.decode("utf-8-sig"), newline=""))
    assert header[:4] == ["center_id", "name_th", "office_path", "province"]
    assert [row[0] for row in rows] == ["GECC-0001", "GECC-0002", "GECC-0003", "GECC-0004"]
    assert rows[1][1] == "สำนักงานเขตดุสิต"
    assert rows[3][:4] == ["GECC-0004", "'" + hostile, "PMO/MOI/DOL", "เชียงใหม่"]
    levels = await intake.client.get(url, params={"format": "csv"}, headers=operator)
    header, top, *_ = csv.reader(io.StringIO(levels.content.decode("utf-8-sig"), newline=""))
    counts = dict(zip(header, top, strict=True))
    assert (counts["office_path"], counts["expected"], counts["missing"]) == ("PMO", "4", "4")
