"""Signing in through the portal, on the real database and broker: the same answer for every
address, a budget per address shared by every process, one-time codes that open exactly one
session, sessions that end on time, at sign-out and when the account is disabled, and the
portal's credential good for nothing else."""

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake import admin
from services.intake.app import create_app
from services.intake.domain.accounts import Scope
from services.intake.domain.accounts_file import ListedMembership
from services.intake.handlers import accounts
from services.intake.settings import IntakeSettings
from shared.events import Envelope, SignInRequested
from shared.topics import Topic
from tests.integration.test_intake_api import CENTERS, Intake, auth, start_intake
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.sign_in import (
    PORTAL,
    PORTAL_SECRET,
    ask_body,
    bearer,
    sent_codes,
    session_body,
    signed_in,
)

SOMCHAI = "somchai@bma.go.th"  # a contact of GECC-0001, and imported for the office PMO/BMA
NIDA = "nida@dusit.go.th"  # a contact of GECC-0002 only
GONE = "former@dol.go.th"  # a contact of GECC-0003 whose account is disabled
UNKNOWN = "nobody@bma.go.th"


async def with_accounts(db: str) -> None:
    contacts = {"GECC-0001": (SOMCHAI,), "GECC-0002": (NIDA,), "GECC-0003": (GONE,)}
    conn = await asyncpg.connect(db)
    try:
        await admin.register_centers(
            conn, [dataclasses.replace(c, contact_emails=contacts[c.id]) for c in CENTERS]
        )
        office = Scope("office", office_path="PMO/BMA")
        await accounts.import_accounts(conn, [ListedMembership(2, SOMCHAI, office)], "test")
        await accounts.disable_account(conn, GONE, "test", datetime.now(UTC))
    finally:
        await conn.close()


Start = Callable[..., AbstractAsyncContextManager[Intake]]


@pytest.fixture
def start(isolated: Isolated) -> Start:
    """Intake in this process with these settings, the portal's secret and the accounts."""

    @asynccontextmanager
    async def started(**settings: Any) -> AsyncIterator[Intake]:
        async for intake in start_intake(isolated, portal_client_secret=PORTAL_SECRET, **settings):
            await with_accounts(intake.db)
            yield intake

    return started


@pytest.fixture
async def intake(start: Start) -> AsyncIterator[Intake]:
    async with start() as running:
        yield running


async def ask(intake: Intake, email: str) -> httpx.Response:
    return await intake.client.post("/v1/sign-in-requests", json=ask_body(email), headers=PORTAL)


async def open_session(intake: Intake, code: str, scope: str | None = None) -> httpx.Response:
    return await intake.client.post("/v1/sessions", json=session_body(code, scope), headers=PORTAL)


async def sign_in(intake: Intake, email: str, scope: str | None = None) -> dict[str, Any]:
    sent = await intake.fetch("SELECT 1 FROM sign_in_codes")
    return await signed_in(
        intake.client,
        intake.isolated.kafka_bootstrap,
        intake.isolated.topics,
        email,
        scope,
        len(sent),
    )


async def codes(intake: Intake, email: str, count: int) -> list[str]:
    isolated = intake.isolated
    return await sent_codes(isolated.kafka_bootstrap, isolated.topics, email, count)


async def me(intake: Intake, token: str) -> httpx.Response:
    return await intake.client.get("/v1/me", headers=bearer(token))


def answer(response: httpx.Response) -> tuple[int, str, bytes]:
    return response.status_code, response.headers["content-type"], response.content


async def test_the_answer_is_the_same_for_known_unknown_and_disabled_addresses(
    intake: Intake,
) -> None:
    answers = [await ask(intake, email) for email in (NIDA, UNKNOWN, GONE)]
    assert answers[0].status_code == 202 and answers[0].json() == {"status": "requested"}
    assert answer(answers[0]) == answer(answers[1]) == answer(answers[2])
    records = await read_all(
        intake.isolated.kafka_bootstrap, intake.isolated.topics(Topic.SIGN_IN_REQUESTED), 1
    )
    assert [r.key for r in records] == [NIDA.encode()]
    event = Envelope[SignInRequested].model_validate_json(records[0].value)
    assert (event.data.email, event.data.locale) == (NIDA, "th")
    left = event.data.expires_at - datetime.now(UTC)
    assert timedelta(minutes=14) < left <= timedelta(minutes=15)
    logged = await intake.fetch(
        "SELECT actor, target, details::text FROM audit_log"
        " WHERE action = 'account.sign_in_requested'"
    )
    assert [(e["actor"], e["target"]) for e in logged] == [("portal", f"account:{NIDA}")]
    assert event.data.code not in logged[0]["details"]
    assert len(await intake.fetch("SELECT 1 FROM sign_in_codes")) == 1


async def test_a_malformed_address_is_refused_naming_the_field(intake: Intake) -> None:
    refused = await ask(intake, "somchai at bma")
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["email"]
    assert await intake.fetch("SELECT 1 FROM sign_in_requests") == []


async def test_each_address_has_a_budget_that_every_process_shares_known_or_not(
    start: Start,
) -> None:
    async with start(sign_in_per_address=5) as one, start(sign_in_per_address=5) as two:
        for email in (NIDA, UNKNOWN):
            answers = [await ask((one, two)[n % 2], email) for n in range(6)]
            assert [a.status_code for a in answers] == [202] * 5 + [429], email
            refused = answers[-1]
            assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
            assert refused.json()["code"] == "rate_limited"
        assert len(await one.fetch("SELECT 1 FROM sign_in_requests")) == 10  # refusals uncounted
        known, unknown = await ask(one, NIDA), await ask(two, UNKNOWN)
        assert answer(known)[:2] == answer(unknown)[:2] == (429, "application/problem+json")
        assert known.json() == unknown.json()
        assert (await ask(one, SOMCHAI)).status_code == 202  # another address's budget


async def test_a_code_opens_exactly_one_session(intake: Intake) -> None:
    assert (await ask(intake, NIDA)).status_code == 202
    [code] = await codes(intake, NIDA, 1)
    racing = await asyncio.gather(*(open_session(intake, code) for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [201, 410, 410, 410]
    opened = next(r.json() for r in racing if r.status_code == 201)
    assert re.fullmatch(r"gecc_session_[\w-]{43}", opened["token"])
    assert opened["account"] == {
        "email": NIDA,
        "kind": "center",
        "center_id": "GECC-0002",
        "office_path": None,
        "display_name": "สำนักงานเขตดุสิต (GECC-0002)",
    }
    shown = await me(intake, opened["token"])
    assert shown.status_code == 200
    assert shown.json()["email"] == NIDA and shown.json()["center"]["id"] == "GECC-0002"
    again = await open_session(intake, code)
    unknown = await open_session(intake, "not-a-code-anyone-was-sent")
    assert again.status_code == unknown.status_code == 410
    assert again.json() == unknown.json()
    assert again.json()["code"] == "link_used_or_expired"
    stored = await intake.fetch(
        "SELECT token_hash, label, scope FROM api_tokens WHERE scope IS NOT NULL"
    )
    assert [(s["label"], s["scope"]) for s in stored] == [("203.0.113.5", "center:GECC-0002")]
    assert opened["token"].encode() not in stored[0]["token_hash"]
    signed = await intake.fetch(
        "SELECT actor, target FROM audit_log WHERE action = 'account.signed_in'"
    )
    assert [(s["actor"], s["target"]) for s in signed] == [("portal", f"account:{NIDA}")]


async def test_an_expired_code_is_answered_as_a_used_one(start: Start) -> None:
    async with start(sign_in_code_minutes=1.5 / 60) as intake:
        assert (await ask(intake, NIDA)).status_code == 202
        [code] = await codes(intake, NIDA, 1)
        await asyncio.sleep(2)
        expired = await open_session(intake, code)
        assert (expired.status_code, expired.json()["code"]) == (410, "link_used_or_expired")


async def test_choosing_the_scope_leaves_the_code_usable(intake: Intake) -> None:
    assert (await ask(intake, SOMCHAI)).status_code == 202
    [code] = await codes(intake, SOMCHAI, 1)
    unchosen = await open_session(intake, code)
    assert (unchosen.status_code, unchosen.json()["code"]) == (409, "choose_scope")
    assert unchosen.json()["scopes"] == [
        {
            "scope": "center:GECC-0001",
            "label_th": "สำนักงานเขตพระนคร (GECC-0001)",
            "label_en": "Phra Nakhon (GECC-0001)",
        },
        {
            "scope": "office:PMO/BMA",
            "label_th": "หน่วยงานต้นสังกัด PMO/BMA",
            "label_en": "Parent office PMO/BMA",
        },
    ]
    not_his = await open_session(intake, code, "operators")
    assert not_his.status_code == 409
    malformed = await open_session(intake, code, "office:BMA")
    assert malformed.status_code == 422 and malformed.json()["errors"][0]["field"] == "scope"
    opened = await open_session(intake, code, "office:PMO/BMA")
    assert opened.status_code == 201, opened.text
    account = opened.json()["account"]
    assert (account["kind"], account["office_path"], account["center_id"]) == (
        "office",
        "PMO/BMA",
        None,
    )
    token = opened.json()["token"]
    reads = {
        center: (
            await intake.client.get(f"/v1/centers/{center}", headers=bearer(token))
        ).status_code
        for center in ("GECC-0001", "GECC-0002", "GECC-0003")
    }
    assert reads == {"GECC-0001": 200, "GECC-0002": 200, "GECC-0003": 404}
    assert (await open_session(intake, code, "center:GECC-0001")).status_code == 410


async def test_a_session_ends_on_time_even_while_cached(start: Start) -> None:
    async with start(session_hours=3 / 3600, token_cache_seconds=3600) as intake:
        session = await sign_in(intake, NIDA)
        ends = datetime.fromisoformat(session["expires_at"])
        assert timedelta(seconds=1) < ends - datetime.now(UTC) <= timedelta(seconds=3)
        shown = [await me(intake, session["token"]) for _ in range(2)]  # the second from cache
        assert [s.status_code for s in shown] == [200, 200]
        assert datetime.fromisoformat(shown[0].json()["expires_at"]) == ends
        await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() + 0.1)
        assert (await me(intake, session["token"])).status_code == 401


async def test_signing_out_ends_that_session_at_once_and_no_other(start: Start) -> None:
    async with start(token_cache_seconds=3600) as intake:
        first, second = await sign_in(intake, NIDA), await sign_in(intake, NIDA)
        assert (await me(intake, first["token"])).status_code == 200  # now cached
        ended = await intake.client.delete("/v1/sessions/current", headers=bearer(first["token"]))
        assert ended.status_code == 204
        await asyncio.sleep(0.2)  # the revocation's notice
        assert (await me(intake, first["token"])).status_code == 401
        assert (await me(intake, second["token"])).status_code == 200
        by_token = await intake.client.delete(
            "/v1/sessions/current", headers=auth(intake.tokens["a"])
        )
        assert by_token.status_code == 403
        assert (await me(intake, intake.tokens["a"])).status_code == 200
        logged = await intake.fetch(
            "SELECT actor FROM audit_log WHERE action = 'account.signed_out'"
        )
        assert [e["actor"] for e in logged] == [f"account:{NIDA}"]


async def test_a_disabled_account_loses_its_sessions_and_gets_no_more_codes(start: Start) -> None:
    async with start(token_cache_seconds=3600) as intake:
        session = await sign_in(intake, NIDA)
        assert (await me(intake, session["token"])).status_code == 200
        conn = await asyncpg.connect(intake.db)
        try:
            ended = await accounts.disable_account(conn, NIDA, "cli:test", datetime.now(UTC))
        finally:
            await conn.close()
        assert ended == 1
        await asyncio.sleep(0.2)
        assert (await me(intake, session["token"])).status_code == 401
        assert (await ask(intake, NIDA)).status_code == 202
        assert len(await codes(intake, NIDA, 1)) == 1  # none sent after the first


async def test_a_contact_the_registry_drops_loses_its_center_and_its_sessions(
    start: Start,
) -> None:
    async with start(token_cache_seconds=3600) as intake:
        session = await sign_in(intake, NIDA)
        assert (await me(intake, session["token"])).status_code == 200
        conn = await asyncpg.connect(intake.db)
        try:
            await admin.register_centers(conn, [CENTERS[1]])  # GECC-0002 without NIDA
        finally:
            await conn.close()
        await asyncio.sleep(0.2)
        assert (await me(intake, session["token"])).status_code == 401


def example_path(path: str) -> str:
    ids = {
        "round_id": "FY2570-H1",
        "center_id": "GECC-0001",
        "standard_id": "gecc-maintenance-2570",
        "submission_id": "00000000-0000-0000-0000-000000000000",
        "version": "1",
        "path": "PMO/BMA",
        "email": "saraban1@district1.go.th",
        "item_code": "P01",
        "file_id": "00000000-0000-0000-0000-000000000000",
    }
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


async def test_the_portal_credential_may_only_sign_in(intake: Intake) -> None:
    operations = [
        (method.upper(), path)
        for path, methods in create_app(IntakeSettings()).openapi()["paths"].items()
        for method in methods
        if path.startswith("/v1/")
    ]
    portal_routes = {("POST", "/v1/sign-in-requests"), ("POST", "/v1/sessions")}
    assert portal_routes < set(operations)
    for method, path in operations:
        if (method, path) in portal_routes:
            continue
        refused = await intake.client.request(method, example_path(path), headers=PORTAL)
        assert refused.status_code == 403, (method, path, refused.text)
    for who in ("a", "bma", "operator"):
        for path, body in (
            ("/v1/sign-in-requests", ask_body(NIDA)),
            ("/v1/sessions", session_body("x")),
        ):
            refused = await intake.client.post(path, json=body, headers=auth(intake.tokens[who]))
            assert refused.status_code == 403, (who, path)
    wrong = await intake.client.post(
        "/v1/sign-in-requests", json=ask_body(NIDA), headers=bearer("not-the-portal-secret")
    )
    assert wrong.status_code == 401


async def test_an_address_in_other_letter_case_is_the_same_account(start: Start) -> None:
    """The registry lists ``Nida@Dusit.go.th``; she types ``NIDA@dusit.go.th``: one account,
    and the link goes to the address the account has."""
    async with start() as intake:
        conn = await asyncpg.connect(intake.db)
        try:
            contacts = {
                "GECC-0001": (SOMCHAI,),
                "GECC-0002": ("Nida@Dusit.go.th",),
                "GECC-0003": (),
            }
            await admin.register_centers(
                conn, [dataclasses.replace(c, contact_emails=contacts[c.id]) for c in CENTERS]
            )
            listed = await conn.fetch("SELECT email FROM accounts WHERE email LIKE 'nida%'")
        finally:
            await conn.close()
        assert [row["email"] for row in listed] == [NIDA]
        assert (await ask(intake, "NIDA@dusit.go.th")).status_code == 202
        [code] = await codes(intake, NIDA, 1)
        opened = await open_session(intake, code)
        assert opened.status_code == 201
        assert opened.json()["account"]["center_id"] == "GECC-0002"
