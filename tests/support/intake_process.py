"""Intake as its own process (uvicorn, the real database and broker) with a small registry,
an open round and a token for each kind of caller, for tests that go through its HTTP door
as clients do."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from services.intake import admin
from services.intake.domain.centers import Center
from tests.support import isolation
from tests.support.infrastructure import Infrastructure
from tests.support.services import ServiceProcess
from tests.support.sign_in import PORTAL_SECRET

ROUND = "FY2570-H1"
CENTERS = [
    Center("GECC-0001", "สำนักงานเขตพระนคร", "Phra Nakhon", "PMO/BMA/DISTRICT", "กรุงเทพมหานคร"),
    Center("GECC-0002", "สำนักงานเขตดุสิต", "Dusit", "PMO/BMA/DISTRICT", "กรุงเทพมหานคร"),
    Center("GECC-0003", "สำนักงานที่ดินเชียงใหม่", "Chiang Mai Land", "PMO/MOI/DOL", "เชียงใหม่"),
]
# Budgets for a test that sends thousands of requests from one address.
UNLIMITED = {
    "GECC_INTAKE_RATE_LIMIT_PER_MINUTE": "1000000",
    "GECC_INTAKE_RATE_LIMIT_BURST": "1000000",
    "GECC_INTAKE_AUTH_FAILURES_PER_MINUTE": "1000000",
    "GECC_INTAKE_AUTH_FAILURES_BURST": "1000000",
}


@dataclass(frozen=True)
class RunningIntake:
    url: str
    # a, b: centers of PMO/BMA; c: a center of PMO/MOI; bma: the BMA's office; operator;
    # portal: the portal's credential.
    tokens: dict[str, str]
    database: str


@asynccontextmanager
async def intake_process(
    infrastructure: Infrastructure, logs: Path, env: dict[str, str]
) -> AsyncIterator[RunningIntake]:
    portal = {"GECC_PORTAL_CLIENT_SECRET": PORTAL_SECRET}
    async with isolation.isolated(infrastructure) as own:
        intake = ServiceProcess("intake", own, logs / "intake.log", {**portal, **env})
        try:
            intake.start()
            intake.wait_healthy()
            database = own.service_url("intake")
            yield RunningIntake(intake.url, await _registry(database), database)
        finally:
            intake.stop()


async def _registry(database: str) -> dict[str, str]:
    conn = await asyncpg.connect(database)
    now = datetime.now(UTC)
    try:
        await admin.register_centers(conn, CENTERS)
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=1), now + timedelta(days=5), now + timedelta(days=9)
        )
        return {
            "a": (await admin.issue_token(conn, "center", center_id="GECC-0001")).token,
            "b": (await admin.issue_token(conn, "center", center_id="GECC-0002")).token,
            "c": (await admin.issue_token(conn, "center", center_id="GECC-0003")).token,
            "bma": (await admin.issue_token(conn, "office", office_path="PMO/BMA")).token,
            "operator": (await admin.issue_token(conn, "operator", label="tests")).token,
            "portal": PORTAL_SECRET,
        }
    finally:
        await conn.close()
