"""The export's dataset from its own tables (real PostgreSQL): a version received but not
scored yet is a record without verdict, not a failure of the whole export."""

from services.export import handlers
from services.export.adapters import repository
from shared.database import connect, create_pool
from shared.events import CenterRegistered, SubmissionReceived
from tests.support.isolation import Isolated
from tests.support.samples import received_event, scored_event


async def test_a_version_not_scored_yet_is_a_record_without_verdict(isolated: Isolated) -> None:
    conn = await connect(isolated.service_url("export"))
    try:
        for center_id in ("GECC-0001", "GECC-0002"):
            await repository.record_center(
                conn,
                CenterRegistered(
                    center_id=center_id, name_th=f"ศูนย์ {center_id}", office_path="PMO/MOI"
                ),
            )
        received: SubmissionReceived = received_event("GECC-0001").data
        await repository.record_received_many(conn, [received])
    finally:
        await conn.close()
    pool = await create_pool(isolated.service_url("export"), 1, 2)
    try:
        async with pool.acquire() as conn:
            records = await handlers.round_records(conn, "FY2570-H1")
    finally:
        await pool.close()
    assert [(r.center_id, r.status, r.scored, r.verdict, r.reasons) for r in records] == [
        ("GECC-0001", "on_time", False, None, ()),
        ("GECC-0002", "missing", False, None, ()),
    ]


async def test_a_batch_keeps_every_version_and_each_ones_latest_score(
    isolated: Isolated,
) -> None:
    # One statement per batch: a version's scores in any order (a re-score among them),
    # scored before received, and a later batch with an older score changes nothing.
    first, second = received_event("GECC-0001").data, received_event("GECC-0002").data
    rescored = scored_event(first).model_copy(update={"score_version": 2, "verdict": "at_risk"})
    conn = await connect(isolated.service_url("export"))
    try:
        await repository.record_scored_many(
            conn, [rescored, scored_event(first), scored_event(second)]
        )
        await repository.record_received_many(conn, [first, second])
        await repository.record_scored_many(conn, [scored_event(first)])
        rows = await conn.fetch(
            "SELECT center_id, receipt_number, verdict, score_version FROM submission_versions"
            " ORDER BY center_id"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [
        ("GECC-0001", first.receipt_number, "at_risk", 2),
        ("GECC-0002", second.receipt_number, "maintained", 1),
    ]
