"""A center submits over HTTP; the services do their part on the real broker and database.

The tests share one started stack (starting every service is the slow part), each with its
own center and rounds: center a reports in FY2570-H1, b sends only bad requests, a is late
and refused in FY2571."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.intake import admin
from services.intake.domain.centers import Center
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_to_end
from tests.support.polling import eventually
from tests.support.samples import submission_body
from tests.support.services import running_services, wait_for_consumers

ROUND = "FY2570-H1"
B = "GECC-0002"


@pytest.fixture(scope="module")
def system(
    module_isolated: Isolated, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    env = {"GECC_INTAKE_PROGRESS_INTERVAL_SECONDS": "0.5"}
    logs = tmp_path_factory.mktemp("logs")
    with running_services(module_isolated, logs, env) as processes:
        yield {name: process.url for name, process in processes.items()}


@pytest.fixture(scope="module")
async def tokens(
    module_isolated: Isolated, system: dict[str, str]
) -> AsyncIterator[dict[str, str]]:
    await wait_for_consumers(system)
    conn = await asyncpg.connect(module_isolated.service_url("intake"))
    now = datetime.now(UTC)
    try:
        await admin.register_centers(
            conn,
            [
                Center(
                    "GECC-0001",
                    "ศูนย์ราชการสะดวก สำนักงานเขตพระนคร",
                    "Phra Nakhon",
                    "PMO/BMA/DISTRICT",
                    "กรุงเทพมหานคร",
                ),
                Center(
                    "GECC-0002",
                    "ศูนย์ราชการสะดวก สำนักงานที่ดินจังหวัดเชียงใหม่",
                    "Chiang Mai Land Office",
                    "PMO/MOI/DOL",
                    "เชียงใหม่",
                ),
            ],
        )
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=1), now + timedelta(days=5), now + timedelta(days=9)
        )
        yield {
            "a": (await admin.issue_token(conn, "center", center_id="GECC-0001")).token,
            "b": (await admin.issue_token(conn, "center", center_id="GECC-0002")).token,
        }
    finally:
        await conn.close()


def bearer(token: str) -> dict[str, str]:
    """A center's credentials, and a fresh Idempotency-Key as every submission needs."""
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())}


async def test_submission_is_scored_and_reaches_every_service(
    module_isolated: Isolated, system: dict[str, str], tokens: dict[str, str]
) -> None:
    received_topic = module_isolated.topics(Topic.SUBMISSION_RECEIVED)
    async with httpx.AsyncClient() as client:
        before = (await client.get(f"{system['scoring']}/metrics")).text
    scored_before = scored_events(before, received_topic)
    async with httpx.AsyncClient(base_url=system["intake"]) as intake:
        first = await intake.post(
            "/v1/submissions", json=submission_body(ROUND), headers=bearer(tokens["a"])
        )
        assert first.status_code == 201, first.text
        receipt = first.json()
        assert (receipt["version"], receipt["late"], receipt["status"]) == (1, False, "received")
        amended = await intake.post(
            "/v1/submissions",
            json=submission_body(ROUND, unmet=("P01",)),
            headers=bearer(tokens["a"]),
        )
        assert amended.json()["version"] == 2
        assert amended.json()["submission_id"] == receipt["submission_id"]

        async def versions() -> list[dict[str, Any]]:
            response = await intake.get(
                f"/v1/submissions/{receipt['submission_id']}", headers=bearer(tokens["a"])
            )
            return list(response.json()["versions"])

        scored = await eventually(versions, lambda vs: all(v["status"] == "scored" for v in vs))
        assert [v["verdict"] for v in scored] == ["maintained", "not_maintained"]
        assert scored[0]["scorecard"]["satisfaction"]["overall_percent"] == 90.15
        reason = scored[1]["scorecard"]["reasons"][0]
        assert (reason["code"], reason["detail"]) == ("mandatory_item_not_met", {"item": "P01"})
        assert reason["text_th"].startswith("ไม่ผ่านเกณฑ์บังคับข้อ P01")

        other_center = await intake.get(
            f"/v1/submissions/{receipt['submission_id']}", headers=bearer(tokens["b"])
        )
        assert other_center.status_code == 404

    # The notifier and the export take the scores from Kafka in their own time.
    submission_id = UUID(receipt["submission_id"])

    async def notified() -> tuple[list[tuple[int, str]], int | None]:
        notifier = await asyncpg.connect(module_isolated.service_url("notifier"))
        try:
            results = await notifier.fetch(
                "SELECT version, verdict FROM submission_results WHERE submission_id = $1"
                " ORDER BY version",
                submission_id,
            )
            latest = await notifier.fetchval(
                "SELECT latest_version FROM round_submissions WHERE round_id = $1"
                " AND center_id = 'GECC-0001'",
                ROUND,
            )
        finally:
            await notifier.close()
        return [(r["version"], r["verdict"]) for r in results], latest

    expected = ([(1, "maintained"), (2, "not_maintained")], 2)
    assert await eventually(notified, lambda seen: seen == expected, within=30) == expected

    async def kept_by_export() -> int:
        export = await asyncpg.connect(module_isolated.service_url("export"))
        try:
            kept: int = await export.fetchval(
                "SELECT count(*) FROM submission_versions WHERE verdict IS NOT NULL"
                " AND received_at IS NOT NULL AND submission_id = $1",
                submission_id,
            )
        finally:
            await export.close()
        return kept

    assert await eventually(kept_by_export, lambda kept: kept == 2, within=30) == 2

    async with httpx.AsyncClient() as client:
        scoring_metrics = (await client.get(f"{system['scoring']}/metrics")).text

        async def intake_backlog() -> float | None:
            metrics = (await client.get(f"{system['intake']}/metrics")).text
            return sample(metrics, "gecc_outbox_backlog", service="intake")

        # (the gauge is refreshed every second; the registry's events go out too)
        await eventually(intake_backlog, lambda backlog: backlog == 0, within=10)

        async def round_metrics() -> tuple[float | None, float | None, float | None]:
            metrics = (await client.get(f"{system['intake']}/metrics")).text
            return (
                sample(metrics, "gecc_round_completeness_ratio", round=ROUND),
                sample(metrics, "gecc_round_submissions", round=ROUND, state="on_time"),
                sample(metrics, "gecc_round_submissions", round=ROUND, state="missing"),
            )

        # One center of the two submitted (twice): half complete.
        assert await eventually(round_metrics, lambda m: m[0] == 0.5, within=10) == (
            0.5,
            1.0,
            1.0,
        )
        lag = await eventually(
            lambda: client.get(f"{system['scoring']}/metrics"),
            lambda r: "gecc_consumer_lag{" in r.text,
            within=15,
        )
        assert sample(lag.text, "gecc_consumer_lag", service="scoring", partition="0") == 0
    assert scored_events(scoring_metrics, received_topic) == scored_before + 2


def scored_events(scoring_metrics: str, received_topic: str) -> float:
    """Received events the scorer processed, by its metrics."""
    processed = sample(
        scoring_metrics,
        "gecc_events_consumed_total",
        service="scoring",
        topic=received_topic,
        outcome="processed",
    )
    return processed or 0.0


def sample(exposition: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(exposition):
        for metric in family.samples:
            if metric.name == name and labels.items() <= metric.labels.items():
                return float(metric.value)
    return None


async def test_bad_requests_are_refused_and_store_nothing(
    module_isolated: Isolated, system: dict[str, str], tokens: dict[str, str]
) -> None:
    bad = submission_body(ROUND)
    bad["satisfaction"]["questions"][0]["counts"] = [1, 2, 3]
    bad["checklist"]["items"].pop()
    async with httpx.AsyncClient(base_url=system["intake"]) as intake:
        unauthenticated = await intake.post("/v1/submissions", json=submission_body(ROUND))
        invalid = await intake.post("/v1/submissions", json=bad, headers=bearer(tokens["b"]))
        unknown_field = await intake.post(
            "/v1/submissions",
            json={**submission_body(ROUND), "center_id": "GECC-0001"},
            headers=bearer(tokens["b"]),
        )
        unknown_round = await intake.post(
            "/v1/submissions", json=submission_body("FY2569-H1"), headers=bearer(tokens["b"])
        )
    assert unauthenticated.status_code == 401
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in invalid.json()["errors"]] == ["satisfaction.questions.0.counts"]
    assert unknown_field.status_code == 422
    assert unknown_field.json()["errors"][0]["field"] == "center_id"
    assert unknown_round.status_code == 404
    assert unknown_round.json()["code"] == "round_not_found"

    conn = await asyncpg.connect(module_isolated.service_url("intake"))
    try:
        stored = await conn.fetchval("SELECT count(*) FROM submissions WHERE center_id = $1", B)
        assert stored == 0
        waiting = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE topic = $1 AND message_key = $2",
            Topic.SUBMISSION_RECEIVED.value,
            B,
        )
        assert waiting == 0
    finally:
        await conn.close()
    # The relay deletes what it published: no such event went out either (the center is
    # the events' key).
    published = await read_to_end(
        module_isolated.kafka_bootstrap, module_isolated.topics(Topic.SUBMISSION_RECEIVED)
    )
    assert [r for r in published if r.key == B.encode()] == []


async def test_late_between_due_and_close_and_refused_after_close(
    module_isolated: Isolated, system: dict[str, str], tokens: dict[str, str]
) -> None:
    now = datetime.now(UTC)
    conn = await asyncpg.connect(module_isolated.service_url("intake"))
    try:
        await admin.set_round_dates(
            conn,
            "FY2571-FY",
            now - timedelta(days=9),
            now - timedelta(days=1),
            now + timedelta(days=1),
        )
        await admin.set_round_dates(
            conn,
            "FY2571-H1",
            now - timedelta(days=9),
            now - timedelta(days=5),
            now - timedelta(days=1),
        )
    finally:
        await conn.close()
    async with httpx.AsyncClient(base_url=system["intake"]) as intake:
        late = await intake.post(
            "/v1/submissions", json=submission_body("FY2571-FY"), headers=bearer(tokens["a"])
        )
        closed = await intake.post(
            "/v1/submissions", json=submission_body("FY2571-H1"), headers=bearer(tokens["a"])
        )
    assert late.status_code == 201 and late.json()["late"] is True
    assert closed.status_code == 409
    assert closed.json()["code"] == "round_closed"
    assert closed.json()["title_th"] == "รอบ FY2571-H1 ปิดรับรายงานแล้ว"
