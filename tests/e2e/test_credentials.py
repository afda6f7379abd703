"""Credentials as intake processes see them: revocation counts at once in every process (a
token revoked, an account disabled), refused credentials are budgeted per address, logged
and counted, and forwarded addresses are believed only from trusted proxies."""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.intake import admin
from services.intake.domain.centers import Center
from services.intake.handlers import accounts
from tests.support.isolation import Isolated
from tests.support.samples import submission_body
from tests.support.services import ServiceProcess
from tests.support.sign_in import PORTAL_SECRET, signed_in

ROUND = "FY2570-H1"
CENTER = Center("GECC-0001", "สำนักงานเขตพระนคร", "Phra Nakhon", "PMO/BMA/DISTRICT", "กรุงเทพมหานคร")


@contextmanager
def intakes(
    isolated: Isolated, logs: Path, count: int, env: dict[str, str] | None = None
) -> Iterator[list[ServiceProcess]]:
    processes = [
        ServiceProcess("intake", isolated, logs / f"intake-{n}.log", env or {})
        for n in range(count)
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_healthy()
        yield processes
    finally:
        for process in processes:
            process.stop()


@pytest.fixture
async def token(isolated: Isolated) -> AsyncIterator[admin.IssuedToken]:
    conn = await asyncpg.connect(isolated.service_url("intake"))
    try:
        await admin.register_centers(conn, [CENTER])
        yield await admin.issue_token(conn, "center", center_id=CENTER.id)
    finally:
        await conn.close()


async def open_round(db: str) -> None:
    """The round's dates once intake has made the calendar."""
    conn = await asyncpg.connect(db)
    try:
        now = datetime.now(UTC)
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=1), now + timedelta(days=5), now + timedelta(days=9)
        )
    finally:
        await conn.close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def statuses(urls: list[str], token: str) -> list[int]:
    async with httpx.AsyncClient() as client:
        answers = [await client.get(f"{url}/v1/rounds", headers=bearer(token)) for url in urls]
    return [a.status_code for a in answers]


async def test_a_revoked_token_is_refused_at_once_by_every_process(
    isolated: Isolated, tmp_path: Path, token: admin.IssuedToken
) -> None:
    with intakes(isolated, tmp_path, 2) as processes:
        urls = [p.url for p in processes]
        await asyncio.sleep(1)  # both follow revocations
        assert await statuses(urls, token.token) == [200, 200]  # now cached in both
        conn = await asyncpg.connect(isolated.service_url("intake"))
        try:
            assert await admin.revoke_token(conn, token.id, "test")
        finally:
            await conn.close()
        await asyncio.sleep(0.2)
        assert await statuses(urls, token.token) == [401, 401]


async def test_a_disabled_accounts_session_is_refused_at_once_by_every_process(
    isolated: Isolated, tmp_path: Path, token: admin.IssuedToken
) -> None:
    contact = "somchai@bma.go.th"
    db = isolated.service_url("intake")
    env = {"GECC_PORTAL_CLIENT_SECRET": PORTAL_SECRET, "GECC_INTAKE_TOKEN_CACHE_SECONDS": "3600"}
    with intakes(isolated, tmp_path, 2, env) as processes:
        conn = await asyncpg.connect(db)
        try:
            await admin.register_centers(conn, [replace(CENTER, contact_emails=(contact,))])
        finally:
            await conn.close()
        async with httpx.AsyncClient(base_url=processes[0].url) as client:
            session = await signed_in(client, isolated.kafka_bootstrap, isolated.topics, contact)
        urls = [p.url for p in processes]
        await asyncio.sleep(1)  # both follow revocations
        assert await statuses(urls, session["token"]) == [200, 200]  # now cached in both
        conn = await asyncpg.connect(db)
        try:
            assert await accounts.disable_account(conn, contact, "test", datetime.now(UTC)) == 1
        finally:
            await conn.close()
        await asyncio.sleep(0.2)
        assert await statuses(urls, session["token"]) == [401, 401]
        assert await statuses(urls, token.token) == [200, 200]  # the center's API token stays


async def test_while_revocations_cannot_be_heard_no_credential_is_trusted_from_the_cache(
    isolated: Isolated, tmp_path: Path, token: admin.IssuedToken
) -> None:
    with intakes(isolated, tmp_path, 1) as processes:
        await asyncio.sleep(1)
        assert await statuses([processes[0].url], token.token) == [200]
        conn = await asyncpg.connect(isolated.service_url("intake"))
        try:
            # The connection that listens is cut, and the revocation's notice is missed.
            listeners = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
            assert listeners == 1
            await asyncio.sleep(0.3)
            assert await admin.revoke_token(conn, token.id, "test")
        finally:
            await conn.close()
        assert await statuses([processes[0].url], token.token) == [401]


def refusals(metrics: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics):
        if family.name == "gecc_auth_refusals":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    found[sample.labels["reason"]] = sample.value
    return found


async def test_refused_credentials_are_budgeted_per_address_logged_and_counted(
    isolated: Isolated, tmp_path: Path, token: admin.IssuedToken
) -> None:
    env = {"GECC_INTAKE_AUTH_FAILURES_BURST": "5", "GECC_INTAKE_AUTH_FAILURES_PER_MINUTE": "5"}
    with intakes(isolated, tmp_path, 1, env) as processes:
        url = processes[0].url
        async with httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/v1/rounds", headers=bearer(token.token))).status_code == 200
            unknown = [
                await client.get("/v1/rounds", headers=bearer(f"gecc_center_guess{n}"))
                for n in range(8)
            ]
            known = await client.get("/v1/rounds", headers=bearer(token.token))
            forbidden = await client.get("/v1/audit", headers=bearer(token.token))
            missing = await client.get("/v1/rounds")
            metrics = (await client.get("/metrics")).text
        assert [a.status_code for a in unknown] == [401] * 5 + [429] * 3
        assert int(unknown[-1].headers["Retry-After"]) > 0
        assert known.status_code == 200  # a known token from that address still works
        assert (forbidden.status_code, missing.status_code) == (403, 401)
        assert refusals(metrics) == {
            "unknown": 5,
            "throttled": 3,
            "forbidden": 1,
            "missing": 1,
        }
        log = processes[0].log.read_text()
    assert "refused GET /v1/rounds from 127.0.0.1: unknown" in log
    assert "refused GET /v1/audit from 127.0.0.1: forbidden" in log
    assert "guess" not in log and token.token not in log


async def submitted_from(url: str, token: str, forwarded_for: str, db: str) -> str:
    async with httpx.AsyncClient(base_url=url) as client:
        answer = await client.post(
            "/v1/submissions",
            json=submission_body(ROUND),
            headers={
                **bearer(token),
                "Idempotency-Key": forwarded_for + url,
                "X-Forwarded-For": forwarded_for,
            },
        )
    assert answer.status_code == 201, answer.text
    target = f"submission:{answer.json()['submission_id']}/v{answer.json()['version']}"
    conn = await asyncpg.connect(db)
    try:
        address: str = await conn.fetchval(
            "SELECT remote_addr FROM audit_log WHERE target = $1", target
        )
    finally:
        await conn.close()
    return address


async def test_forwarded_addresses_are_believed_only_from_trusted_proxies(
    isolated: Isolated, tmp_path: Path, token: admin.IssuedToken
) -> None:
    db = isolated.service_url("intake")
    with intakes(isolated, tmp_path / "plain", 1) as processes:
        await open_round(db)
        assert await submitted_from(processes[0].url, token.token, "203.0.113.9", db) == (
            "127.0.0.1"
        )
    trusted = {"GECC_TRUSTED_PROXIES": "127.0.0.1"}
    with intakes(isolated, tmp_path / "proxied", 1, trusted) as processes:
        assert await submitted_from(processes[0].url, token.token, "203.0.113.7", db) == (
            "203.0.113.7"
        )
