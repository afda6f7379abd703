"""Events of different topics reach the notifier in no fixed order: a receipt whose center or
round is not known yet is held, and sent once they are (real PostgreSQL, the notifier's own
schema and use cases)."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from services.notifier import handlers
from services.notifier.adapters import repository
from services.notifier.metrics import NotifierMetrics
from shared.database import connect
from shared.events import (
    CenterRegistered,
    Envelope,
    RoundScheduled,
    SubmissionReceived,
    new_event,
)
from tests.support.isolation import Isolated
from tests.support.samples import (
    as_version_1,
    as_version_2,
    citizen_survey,
    received_event,
    scored_event,
    with_evidence,
)


@pytest.fixture
async def notifier_db(isolated: Isolated) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(isolated.service_url("notifier"))
    try:
        yield conn
    finally:
        await conn.close()


def center(center_id: str) -> CenterRegistered:
    return CenterRegistered(
        center_id=center_id,
        name_th=f"ศูนย์ {center_id}",
        office_path="PMO/MOI/DOPA",
        contact_emails=[f"{center_id.lower()}@example.go.th"],
    )


def round_h1() -> RoundScheduled:
    now = datetime.now(UTC)
    return RoundScheduled(
        round_id="FY2570-H1",
        kind="H1",
        fiscal_year=2570,
        period_start=date(2026, 10, 1),
        period_end=date(2027, 3, 31),
        opens_at=now - timedelta(days=1),
        due_at=now + timedelta(days=7),
        closes_at=now + timedelta(days=21),
    )


async def receipts(conn: asyncpg.Connection) -> list[tuple[str, int]]:
    rows = await conn.fetch(
        "SELECT recipient, sequence FROM deliveries WHERE kind = 'receipt' ORDER BY recipient"
    )
    return [(r["recipient"], r["sequence"]) for r in rows]


async def test_a_receipt_waits_for_its_center_and_round_then_goes_once(
    notifier_db: asyncpg.Connection,
) -> None:
    conn, metrics = notifier_db, NotifierMetrics(CollectorRegistry())
    await handlers.note_submission(conn, received_event("GECC-0001"), metrics)
    await handlers.note_submission(conn, received_event("GECC-0002", version=2), metrics)
    assert await receipts(conn) == []
    assert await conn.fetchval("SELECT count(*) FROM held_notices") == 2

    await handlers.note_center(conn, new_event(center("GECC-0001"), "test"), metrics)
    assert await receipts(conn) == []  # the round is still unknown: held again
    await handlers.note_round(conn, new_event(round_h1(), "test"), metrics)
    assert await receipts(conn) == [("gecc-0001@example.go.th", 1)]
    await handlers.note_center(conn, new_event(center("GECC-0002"), "test"), metrics)
    assert await receipts(conn) == [
        ("gecc-0001@example.go.th", 1),
        ("gecc-0002@example.go.th", 2),
    ]
    assert await conn.fetchval("SELECT count(*) FROM held_notices") == 0
    # The center announced again (a later import) sends nothing twice.
    await handlers.note_center(conn, new_event(center("GECC-0001"), "test"), metrics)
    assert len(await receipts(conn)) == 2


async def test_a_notice_held_while_its_center_was_being_committed_is_swept_out(
    notifier_db: asyncpg.Connection,
) -> None:
    conn, metrics = notifier_db, NotifierMetrics(CollectorRegistry())
    await handlers.note_round(conn, new_event(round_h1(), "test"), metrics)
    await handlers.note_submission(conn, received_event("GECC-0003"), metrics)
    # The center's event was processed concurrently: stored, but its release ran before
    # the hold above was committed, so nothing released it.
    await repository.record_center(conn, center("GECC-0003"))
    assert await receipts(conn) == []
    await handlers.release_ready(conn, metrics)
    assert await receipts(conn) == [("gecc-0003@example.go.th", 1)]
    assert await conn.fetchval("SELECT count(*) FROM held_notices") == 0


async def test_known_center_and_round_get_the_receipt_at_once_and_one_result_per_version(
    notifier_db: asyncpg.Connection,
) -> None:
    conn, metrics = notifier_db, NotifierMetrics(CollectorRegistry())
    await handlers.note_round(conn, new_event(round_h1(), "test"), metrics)
    await handlers.note_center(conn, new_event(center("GECC-0001"), "test"), metrics)
    received = received_event("GECC-0001")
    await handlers.note_submission(conn, received, metrics)
    assert await receipts(conn) == [("gecc-0001@example.go.th", 1)]
    assert await conn.fetchval("SELECT count(*) FROM held_notices") == 0
    noted = await conn.fetchrow("SELECT center_id, latest_version FROM round_submissions")
    assert tuple(noted) == ("GECC-0001", 1)

    scored = new_event(scored_event(received.data), "test")
    await handlers.note_result(conn, scored, metrics)
    rescored = scored.data.model_copy(update={"score_version": 2, "verdict": "at_risk"})
    await handlers.note_result(conn, new_event(rescored, "test"), metrics)
    results = await conn.fetch("SELECT recipient FROM deliveries WHERE kind = 'result'")
    assert [r["recipient"] for r in results] == ["gecc-0001@example.go.th"]
    assert await conn.fetchval("SELECT verdict FROM submission_results") == "maintained"


async def test_a_batch_of_events_queues_each_receipt_and_result_and_holds_the_unknown(
    notifier_db: asyncpg.Connection,
) -> None:
    conn, registry = notifier_db, CollectorRegistry()
    metrics = NotifierMetrics(registry)
    await handlers.note_round(conn, new_event(round_h1(), "test"), metrics)
    nobody = center("GECC-0003").model_copy(update={"contact_emails": []})
    for known in (center("GECC-0001"), center("GECC-0002"), nobody):
        await handlers.note_center(conn, new_event(known, "test"), metrics)
    received = [received_event(c) for c in ("GECC-0001", "GECC-0002", "GECC-0003", "GECC-0009")]
    await handlers.note_submissions(conn, received, metrics)
    assert await receipts(conn) == [
        ("gecc-0001@example.go.th", 1),
        ("gecc-0002@example.go.th", 1),
    ]
    held = await conn.fetch("SELECT kind, center_id FROM held_notices")
    assert [tuple(h) for h in held] == [("receipt", "GECC-0009")]
    await handlers.note_results(
        conn, [new_event(scored_event(r.data), "test") for r in received[:3]], metrics
    )
    results = await conn.fetch("SELECT recipient FROM deliveries WHERE kind = 'result'")
    assert sorted(r["recipient"] for r in results) == [
        "gecc-0001@example.go.th",
        "gecc-0002@example.go.th",
    ]
    nobody_counted = {
        kind: registry.get_sample_value(
            "gecc_notifications_total", {"kind": kind, "channel": "any", "outcome": "no_recipient"}
        )
        for kind in ("receipt", "result")
    }
    assert nobody_counted == {"receipt": 1.0, "result": 1.0}


async def test_receipts_go_for_events_of_schema_versions_1_2_and_3(
    notifier_db: asyncpg.Connection,
) -> None:
    conn, metrics = notifier_db, NotifierMetrics(CollectorRegistry())
    old = Envelope[SubmissionReceived].model_validate_json(
        as_version_1(received_event("GECC-0001"))
    )
    assert old.schema_version == 1 and old.data.evidence == []
    second = Envelope[SubmissionReceived].model_validate_json(
        as_version_2(with_evidence(received_event("GECC-0002", version=2)))
    )
    assert second.schema_version == 2 and len(second.data.evidence) == 2
    new = with_evidence(received_event("GECC-0003", version=3, source=citizen_survey()))
    assert new.schema_version == 3
    # Held (center and round unknown), kept as JSON and read again when released.
    for event in (old, second, new):
        await handlers.note_submission(conn, event, metrics)
    await handlers.note_round(conn, new_event(round_h1(), "test"), metrics)
    for center_id in ("GECC-0001", "GECC-0002", "GECC-0003"):
        await handlers.note_center(conn, new_event(center(center_id), "test"), metrics)
    assert await receipts(conn) == [
        ("gecc-0001@example.go.th", 1),
        ("gecc-0002@example.go.th", 2),
        ("gecc-0003@example.go.th", 3),
    ]


async def test_the_receipt_and_result_mails_say_where_the_satisfaction_figures_come_from(
    notifier_db: asyncpg.Connection,
) -> None:
    conn, metrics = notifier_db, NotifierMetrics(CollectorRegistry())
    await handlers.note_round(conn, new_event(round_h1(), "test"), metrics)
    for center_id in ("GECC-0001", "GECC-0002"):
        await handlers.note_center(conn, new_event(center(center_id), "test"), metrics)
    citizen = received_event("GECC-0001", source=citizen_survey(412))
    own = received_event("GECC-0002")
    for received in (citizen, own):
        await handlers.note_submission(conn, received, metrics)
        await handlers.note_result(conn, new_event(scored_event(received.data), "test"), metrics)
    for kind in ("receipt", "result"):
        rows = await conn.fetch(
            "SELECT recipient, body FROM deliveries WHERE kind = $1 ORDER BY recipient", kind
        )
        bodies = {r["recipient"]: r["body"] for r in rows}
        assert (
            "ที่มาของข้อมูลความพึงพอใจ: แบบสำรวจความพึงพอใจของประชาชนผ่านระบบ ผู้ตอบ 412 คน"
            in (bodies["gecc-0001@example.go.th"])
        ), kind
        assert (
            "Where the satisfaction figures come from: the citizen survey, 412 responses"
            in (bodies["gecc-0001@example.go.th"])
        ), kind
        assert (
            "ที่มาของข้อมูลความพึงพอใจ: แบบสำรวจที่ศูนย์ฯ ดำเนินการเอง" in bodies["gecc-0002@example.go.th"]
        ), kind
        assert (
            "Where the satisfaction figures come from: the center's own survey"
            in (bodies["gecc-0002@example.go.th"])
        ), kind
