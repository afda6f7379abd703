"""The export's dataset from its own tables (real PostgreSQL): a version received but not
scored yet is a record without verdict, not a failure of the whole export."""

from pathlib import Path

from prometheus_client import CollectorRegistry

from services.export.adapters import repository
from services.export.entrypoints.exporter import Exporter
from services.export.metrics import ExportMetrics
from shared.database import connect, create_pool
from shared.events import CenterRegistered, SubmissionReceived
from shared.retry import RetryPolicy
from tests.support.isolation import Isolated
from tests.support.samples import received_event


async def test_a_version_not_scored_yet_is_a_record_without_verdict(
    isolated: Isolated, tmp_path: Path
) -> None:
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
        await repository.record_received(conn, received)
    finally:
        await conn.close()
    pool = await create_pool(isolated.service_url("export"), 1, 2)
    try:
        metrics = ExportMetrics(CollectorRegistry())
        # Building records needs no PMO client.
        exporter = Exporter(pool, None, tmp_path, RetryPolicy(), metrics)  # type: ignore[arg-type]
        async with pool.acquire() as conn:
            records = await exporter.records(conn, "FY2570-H1")
    finally:
        await pool.close()
    assert [(r.center_id, r.status, r.scored, r.verdict, r.reasons) for r in records] == [
        ("GECC-0001", "on_time", False, None, ()),
        ("GECC-0002", "missing", False, None, ()),
    ]
