"""A round of 50 centers (10 never report) closes and its export reaches the reference PMO
receiver exactly once: while the receiver fails half of the calls and answers some too late,
with the export process killed in the middle of the delivery, and with a correction after
the export sent as a delta. Every service runs as its own process on the real broker and
database; the receiver is the real `gecc pmo-receiver`.

The round runs on the real clock: it is due a month ahead while the reports arrive, so none
of them is late however slow the machine, and closes once the export service holds every
report with its score, so the full export has them all."""

import csv
import io
import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import openpyxl

from gecc.pmo_receiver.client import signed_get_headers
from services.intake import admin
from services.intake.domain.centers import Center
from tests.support.infrastructure import REPO
from tests.support.isolation import Isolated
from tests.support.polling import eventually
from tests.support.samples import submission_body
from tests.support.services import free_port, running_services, wait_for_consumers

ROUND = "FY2570-H1"
DAY = timedelta(days=1)
SECRET = "test-pmo-secret-of-this-run"
CENTERS = [f"GECC-{n:04d}" for n in range(1, 51)]
SUBMITTING = CENTERS[:40]
NEVER = CENTERS[40:]
BATCH_SIZE = 2  # 50 records: 25 batches


@contextmanager
def pmo_receiver(directory: Path, log: Path) -> Iterator[str]:
    port = free_port()
    command = [
        sys.executable, "-m", "gecc.pmo_receiver", "--port", str(port), "--dir", str(directory),
        "--secret", SECRET, "--fail-share", "0.5", "--slow-share", "0.2", "--slow-seconds",
        "1.5", "--seed", "7",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(10)


async def open_round(isolated: Isolated) -> tuple[dict[str, str], str]:
    """The centers and their tokens, an operator's token; the round open, due in a month."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        await admin.register_centers(
            conn,
            [
                Center(c, f"ศูนย์ราชการสะดวก {c}", f"Center {c}", "PMO/MOI/DOPA", "เชียงใหม่")
                for c in CENTERS
            ],
        )
        tokens = {c: (await admin.issue_token(conn, "center", center_id=c)).token for c in CENTERS}
        operator = (await admin.issue_token(conn, "operator", label="test")).token
        await admin.set_round_dates(conn, ROUND, now - DAY, now + 30 * DAY, now + 31 * DAY)
    finally:
        await conn.close()
    return tokens, operator


async def close_round(isolated: Isolated) -> None:
    """Due and closed now: the notifier's round clock announces the close at once."""
    now = datetime.now(UTC)
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        await admin.set_round_dates(conn, ROUND, now - DAY, now, now)
    finally:
        await conn.close()


async def held_by_export(isolated: Isolated) -> tuple[int, int]:
    """The centers and the scored reports of the round the export service has taken in."""
    conn = await asyncpg.connect(isolated.service_url("export"))
    try:
        centers = await conn.fetchval("SELECT count(*) FROM centers")
        scored = await conn.fetchval(
            "SELECT count(*) FROM submission_versions"
            " WHERE round_id = $1 AND received_at IS NOT NULL AND verdict IS NOT NULL",
            ROUND,
        )
        return centers, scored
    finally:
        await conn.close()


async def submit(intake: httpx.AsyncClient, token: str) -> httpx.Response:
    return await intake.post(
        "/v1/submissions",
        json=submission_body(ROUND),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid4())},
    )


async def exports(intake: httpx.AsyncClient, operator: str) -> list[dict[str, Any]]:
    response = await intake.get(
        f"/v1/rounds/{ROUND}/exports", headers={"Authorization": f"Bearer {operator}"}
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["exports"]
    return found


async def acked_batches(isolated: Isolated) -> set[int]:
    conn = await asyncpg.connect(isolated.service_url("export"))
    try:
        rows = await conn.fetch("SELECT number FROM export_batches WHERE acked_at IS NOT NULL")
        return {r["number"] for r in rows}
    finally:
        await conn.close()


def posted_batches(log_text: str, export_id: str) -> list[int]:
    """Numbers of the export's batches the receiver stored or answered as duplicates."""
    return [int(n) for n in re.findall(rf"batch (\d+) of {export_id}", log_text)]


async def test_a_closed_round_reaches_the_pmo_system_once_through_failures_and_a_crash(
    isolated: Isolated, tmp_path: Path
) -> None:
    receiver_log = tmp_path / "pmo.log"
    with pmo_receiver(tmp_path / "pmo", receiver_log) as pmo_url:
        env = {
            "GECC_NOTIFIER_CLOCK_POLL_SECONDS": "0.2",
            "GECC_NOTIFIER_SMTP_PORT": str(free_port()),  # no mail wanted here
            "GECC_NOTIFIER_DELIVERY_MAX_ATTEMPTS": "1",
            "GECC_EXPORT_PMO_URL": pmo_url,
            "GECC_EXPORT_PMO_SECRET": SECRET,
            "GECC_EXPORT_EXPORTS_DIR": str(tmp_path / "exports"),
            "GECC_EXPORT_BATCH_SIZE": str(BATCH_SIZE),
            "GECC_EXPORT_PMO_TIMEOUT_SECONDS": "1",
            "GECC_EXPORT_RETRY_FIRST_SECONDS": "0.1",
            "GECC_EXPORT_RETRY_MAX_SECONDS": "0.5",
            "GECC_EXPORT_LEASE_SECONDS": "2",
            "GECC_EXPORT_CORRECTION_QUIET_SECONDS": "1",
        }
        with running_services(isolated, tmp_path / "logs", env) as procs:
            await wait_for_consumers({name: p.url for name, p in procs.items()})
            tokens, operator = await open_round(isolated)
            async with httpx.AsyncClient(base_url=procs["intake"].url, timeout=10) as intake:
                for center in SUBMITTING:
                    assert (await submit(intake, tokens[center])).status_code == 201
                await eventually(
                    lambda: held_by_export(isolated),
                    lambda held: held == (len(CENTERS), len(SUBMITTING)),
                    within=60,
                )
                await close_round(isolated)

                # The export process dies once the PMO system acknowledged some batches.
                before_kill = await eventually(
                    lambda: acked_batches(isolated), lambda acked: len(acked) >= 2, within=60
                )
                procs["export"].kill()
                before_kill = await acked_batches(isolated)
                log_at_kill = len(receiver_log.read_text())
                procs["export"].start()
                procs["export"].wait_healthy()
                done = await eventually(
                    lambda: exports(intake, operator),
                    lambda found: [e["state"] for e in found] == ["reconciled"],
                    within=90,
                )

                # A correction after the export: an extension, a late report, a delta.
                late_center = NEVER[0]
                granted = await intake.post(
                    f"/v1/rounds/{ROUND}/extensions",
                    json={
                        "center_id": late_center,
                        "until": (datetime.now(UTC) + 30 * DAY).isoformat(),
                        "reason": "ระบบไฟฟ้าขัดข้อง / power outage at the center",
                    },
                    headers={"Authorization": f"Bearer {operator}"},
                )
                assert granted.status_code in (200, 201), granted.text
                assert (await submit(intake, tokens[late_center])).status_code == 201
                both = await eventually(
                    lambda: exports(intake, operator),
                    lambda found: (
                        [(e["kind"], e["state"]) for e in found]
                        == [("full", "reconciled"), ("delta", "reconciled")]
                    ),
                    within=90,
                )
            async with httpx.AsyncClient(base_url=pmo_url) as pmo:
                view = f"/gecc/v1/rounds/{ROUND}/records"
                signed = signed_get_headers(SECRET, view)
                records = (await pmo.get(view, headers=signed)).json()["records"]
                control = (await pmo.get("/control")).json()

    full = done[0]
    assert (full["records"], full["batches"], full["batches_acknowledged"]) == (50, 25, 25)
    assert full["counts"]["missing"] == 10 and full["acknowledged"]["records"] == 50
    assert full["attempts"] >= 2  # it did fail on the way
    assert both[1]["records"] == 1
    # Exactly once: one record per center, as the delta left it.
    assert sorted(r["center_id"] for r in records) == CENTERS
    statuses = Counter(r["status"] for r in records)
    assert statuses == {"on_time": 40, "late": 1, "missing": 9}
    assert control["counters"]["failed_injected"] > 0 and control["counters"]["slowed"] > 0
    # Acknowledged batches were not sent again after the crash.
    after_kill = posted_batches(receiver_log.read_text()[log_at_kill:], full["export_id"])
    assert after_kill, "the kill came after the delivery: nothing was left to resume"
    assert not (set(after_kill) & before_kill), (before_kill, after_kill)

    files = tmp_path / "exports" / ROUND / full["export_id"]
    manifest = json.loads((files / "manifest.json").read_text())
    assert manifest["counts"]["missing"] == 10
    raw_csv = (files / "records.csv").read_bytes()
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw_csv.decode("utf-8-sig"))))
    assert len(rows) == 50 and rows[0]["center_name_th"] == "ศูนย์ราชการสะดวก GECC-0001"
    sheet = openpyxl.load_workbook(files / "records.xlsx", read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 51 and "ศูนย์ราชการสะดวก GECC-0050" in values[50]
