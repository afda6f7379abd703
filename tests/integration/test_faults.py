"""Faults on real processes: the broker, then the database, stops under a running stack.

A private stack (the launcher, on free ports) so that the tests may stop and restart its Kafka
broker and PostgreSQL server without disturbing anyone else's; never the session's shared
infrastructure.
"""

import asyncio
import json
import shutil
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
from aiokafka.errors import KafkaError
from prometheus_client.parser import text_string_to_metric_families

from gecc.registry_generator import generate_registry
from gecc.stack import kafka, postgres, processes
from gecc.stack.config import StackConfig
from gecc.stack.stack import down, up
from gecc.stack.state import ProcessRecord, load_state
from services.intake import admin
from shared.topics import CONSUMERS, SERVICES, Topic, TopicNames
from tests.support.kafka import read_all
from tests.support.samples import submission_body
from tests.support.services import free_port

T = TypeVar("T")

ROUND = "FY2570-H1"
NAMESPACE = "faults."
KAFKA_DOWN_CENTERS = 200
POST_CONCURRENCY = 20
SCORED_WITHIN = 120.0
BACKLOG_WITHIN = 30.0


@pytest.fixture(scope="module")
def stack() -> Iterator[StackConfig]:
    """PostgreSQL, Kafka and the services as processes this module may stop at will."""
    ports = distinct_free_ports(6 + len(SERVICES))
    # Not under pytest's tmp_path: every pytest run (another session's too) makes
    # /tmp/pytest-of-<user> 0700 again, and PostgreSQL, which runs as its own OS user when we
    # are root, then loses its data directory and PANICs.
    home = Path(tempfile.mkdtemp(prefix="gecc-faults-"))
    config = StackConfig(
        home=home,
        kafka_port=ports[0],
        kafka_controller_port=ports[1],
        postgres_port=ports[2],
        topic_namespace=NAMESPACE,
        mailsink_port=ports[3],
        pmo_port=ports[4],
        s3_port=ports[5],
        service_ports=dict(zip(SERVICES, ports[6:], strict=True)),
        start_timeout=120,
    )
    try:
        up(config)
        yield config
    finally:
        down(config)
    shutil.rmtree(home, ignore_errors=True)  # left, with its logs, when up() or down() failed


@pytest.fixture(scope="module")
async def tokens(stack: StackConfig) -> dict[str, str]:
    """A center token for each registered center, with the round open for another 5 days:
    200 centers for the Kafka test, one to warm the pipeline up, one for the database test."""
    centers = generate_registry(KAFKA_DOWN_CENTERS + 2)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(stack.service_dsn("intake"))
    try:
        await admin.register_centers(conn, centers)
        await admin.set_round_dates(
            conn, ROUND, now - timedelta(days=1), now + timedelta(days=5), now + timedelta(days=9)
        )
        issued = {c.id: await admin.issue_token(conn, "center", center_id=c.id) for c in centers}
    finally:
        await conn.close()
    # issue_token returns the token, or an object carrying it as ``.token``.
    return {center: str(getattr(t, "token", t)) for center, t in issued.items()}


@pytest.fixture
async def intake(stack: StackConfig) -> AsyncIterator[httpx.AsyncClient]:
    await asyncio.to_thread(up, stack)  # whatever an earlier test left stopped runs again
    base = f"http://{stack.service_address('intake')}"
    async with httpx.AsyncClient(base_url=base, timeout=30, trust_env=False) as client:
        yield client


async def test_submissions_accepted_while_kafka_is_down_are_each_scored_once_when_it_returns(
    stack: StackConfig, tokens: dict[str, str], intake: httpx.AsyncClient
) -> None:
    centers = sorted(tokens)[:KAFKA_DOWN_CENTERS]
    warm_up = sorted(tokens)[KAFKA_DOWN_CENTERS]
    await until(
        lambda: kafka_states(stack),
        lambda states: set(states.values()) == {"ok"},
        within=60,
        what="every service's Kafka consumers to be connected",
        logs=lambda: "\n".join(log_tail(stack, s) for s in SERVICES),
    )
    # A running system has published before the broker goes away: so must this one.
    first = await submit(intake, tokens[warm_up], str(uuid.uuid4()))
    assert first.status_code == 201, first.text
    await until(
        lambda: count_scored(stack, [uuid.UUID(first.json()["submission_id"])]),
        lambda n: n == 1,
        within=30,
        what="a first submission to be scored with Kafka up",
        logs=lambda: "\n".join(log_tail(stack, s) for s in ("intake", "scoring")),
    )

    before = load_state(stack.state_file)
    await stop_kafka(stack, before["kafka"])
    started = time.monotonic()
    semaphore = asyncio.Semaphore(POST_CONCURRENCY)

    async def post(center: str) -> httpx.Response:
        async with semaphore:
            return await submit(intake, tokens[center], str(uuid.uuid4()))

    responses = await asyncio.gather(*(post(c) for c in centers))
    refused = [(c, r.status_code, r.text[:300]) for c, r in zip(centers, responses, strict=True)]
    refused = [entry for entry in refused if entry[1] != 201]
    assert refused == [], (
        f"{len(refused)} of {len(centers)} submissions were not accepted while Kafka was down "
        f"(first: {refused[:3]}); intake log:\n{log_tail(stack, 'intake')}"
    )
    receipts = [r.json() for r in responses]
    assert {(r["version"], r["status"]) for r in receipts} == {(1, "received")}
    submission_ids = {uuid.UUID(r["submission_id"]) for r in receipts}
    assert len(submission_ids) == KAFKA_DOWN_CENTERS
    print(f"posted {len(centers)} with Kafka down in {time.monotonic() - started:.1f} s")

    posted = time.monotonic()
    backlog, oldest = await until(
        lambda: outbox_metrics(intake),
        lambda m: m[0] >= KAFKA_DOWN_CENTERS,
        within=BACKLOG_WITHIN,
        what=f"intake's gecc_outbox_backlog to reach {KAFKA_DOWN_CENTERS} while Kafka is down",
        logs=lambda: relay_lines(stack, "intake"),
    )
    assert backlog == KAFKA_DOWN_CENTERS
    assert oldest > 0
    print(f"backlog gauge at {backlog:.0f} {time.monotonic() - posted:.1f} s after the posts")
    health = await intake.get("/health")
    assert (health.status_code, health.json()["kafka"]) == (200, "unreachable")

    restart = time.monotonic()
    await asyncio.to_thread(up, stack)
    after = load_state(stack.state_file)
    assert after["kafka"].pid != before["kafka"].pid
    assert {s: after[s] for s in SERVICES} == {s: before[s] for s in SERVICES}, (
        "up() restarted services: they should have kept running (and reconnected) "
        "while only Kafka was down"
    )
    print(f"Kafka back in {time.monotonic() - restart:.1f} s")

    ids = list(submission_ids)
    scored = await until(
        lambda: count_scored(stack, ids),
        lambda n: n == KAFKA_DOWN_CENTERS,
        within=SCORED_WITHIN,
        what=f"all {KAFKA_DOWN_CENTERS} submission versions to be scored after Kafka returned",
        logs=lambda: "\n".join(log_tail(stack, s) for s in ("intake", "scoring")),
    )
    assert scored == KAFKA_DOWN_CENTERS
    print(f"all scored {time.monotonic() - restart:.1f} s after Kafka was started again")

    expected = {(sid, 1) for sid in submission_ids}
    scores = await fetch_versions(stack, "scoring", "scores", ids)
    assert len(scores) == KAFKA_DOWN_CENTERS and set(scores) == expected
    results = await until(
        lambda: fetch_versions(stack, "notifier", "submission_results", ids),
        lambda rows: len(rows) >= KAFKA_DOWN_CENTERS,
        within=30,
        what="the notifier to record every result",
        logs=lambda: log_tail(stack, "notifier"),
    )
    assert len(results) == KAFKA_DOWN_CENTERS and set(results) == expected

    for service in ("intake", "scoring"):
        await outbox_drained(stack, service)

    topic = TopicNames(NAMESPACE)(Topic.SUBMISSION_SCORED)
    every_score = await count_rows(stack, "scoring", "scores")
    records = await read_all(stack.kafka_bootstrap, topic, every_score, within=30)
    published = [uuid.UUID(json.loads(r.value)["data"]["submission_id"]) for r in records]
    ours = [sid for sid in published if sid in submission_ids]
    assert len(ours) == KAFKA_DOWN_CENTERS, (
        f"{topic} holds {len(ours)} scored events for the {KAFKA_DOWN_CENTERS} submissions "
        f"({len(set(ours))} distinct): nothing crashed, so each must be published once"
    )
    assert set(ours) == submission_ids
    assert len(published) == every_score, f"{len(published)} scored events for {every_score}"


async def test_database_down_gives_503_and_nothing_half_written(
    stack: StackConfig, tokens: dict[str, str], intake: httpx.AsyncClient
) -> None:
    center = sorted(tokens)[KAFKA_DOWN_CENTERS + 1]
    token, key = tokens[center], str(uuid.uuid4())
    before = load_state(stack.state_file)
    await asyncio.to_thread(postgres.stop_server, stack, before["postgres"])
    assert postgres.running_postmaster(stack) is None, "PostgreSQL still runs after pg_ctl stop"
    assert not await postgres.is_healthy(stack)

    try:
        refused = await submit(intake, token, key)
    except httpx.TimeoutException as error:
        pytest.fail(
            f"POST /v1/submissions hung with the database down ({error!r}); "
            f"intake log:\n{log_tail(stack, 'intake')}"
        )
    assert refused.status_code == 503, (
        f"with the database down intake answered {refused.status_code} {refused.text[:500]}; "
        f"intake log:\n{log_tail(stack, 'intake')}"
    )
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "database_unavailable"
    assert int(refused.headers["retry-after"]) > 0

    health = await intake.get("/health")
    assert health.status_code == 503, health.text
    assert health.json()["database"] != "ok"

    await asyncio.to_thread(up, stack)
    after = load_state(stack.state_file)
    assert after["postgres"].pid != before["postgres"].pid
    assert {s: after[s] for s in SERVICES} == {s: before[s] for s in SERVICES}, (
        "up() restarted services: they should have kept running (and reconnected) "
        "while only PostgreSQL was down"
    )

    accepted = await submit(intake, token, key)
    assert accepted.status_code == 201, (
        f"the retry answered {accepted.status_code} {accepted.text[:500]}; "
        f"intake log:\n{log_tail(stack, 'intake')}"
    )
    assert accepted.headers.get("idempotent-replayed") is None, "the refused attempt was stored"
    receipt = accepted.json()
    assert (receipt["version"], receipt["status"]) == (1, "received")
    assert receipt["receipt_number"] == f"{ROUND}/{center}/v1"
    health = await intake.get("/health")
    assert health.status_code == 200, health.text


def distinct_free_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


async def stop_kafka(config: StackConfig, record: ProcessRecord) -> None:
    """Stop only the broker, as the launcher would, and return once it no longer answers."""
    await asyncio.to_thread(processes.stop, record, kafka.STOP_GRACE)
    assert not processes.is_ours(record), f"Kafka (pid {record.pid}) still runs after stop"
    await until(
        lambda: kafka.is_healthy(config),
        lambda healthy: not healthy,
        within=10,
        what=f"Kafka to stop answering on {config.kafka_bootstrap}",
        logs=lambda: log_tail(config, "kafka"),
    )


async def kafka_states(config: StackConfig) -> dict[str, str]:
    """What each service's /health says of its Kafka consumers: ``ok`` or ``connecting``."""
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        return {
            service: (await client.get(f"http://{config.service_address(service)}/health"))
            .json()
            .get("kafka")
            for service in CONSUMERS
        }


async def submit(client: httpx.AsyncClient, token: str, key: str) -> httpx.Response:
    return await client.post(
        "/v1/submissions",
        json=submission_body(ROUND),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
    )


async def outbox_metrics(client: httpx.AsyncClient) -> tuple[float, float]:
    """The service's outbox backlog and the age of its oldest unpublished event."""
    response = await client.get("/metrics")
    response.raise_for_status()
    values = {
        sample.name: sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name in ("gecc_outbox_backlog", "gecc_outbox_oldest_age_seconds")
    }
    return values["gecc_outbox_backlog"], values["gecc_outbox_oldest_age_seconds"]


async def outbox_drained(config: StackConfig, service: str) -> None:
    base = f"http://{config.service_address(service)}"
    async with httpx.AsyncClient(base_url=base, timeout=10, trust_env=False) as client:
        await until(
            lambda: outbox_metrics(client),
            lambda metrics: metrics == (0, 0),
            within=30,
            what=f"{service}'s outbox backlog to drain to 0",
            logs=lambda: log_tail(config, service),
        )


async def count_scored(config: StackConfig, ids: list[uuid.UUID]) -> int:
    conn = await asyncpg.connect(config.service_dsn("intake"))
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM submission_versions"
            " WHERE submission_id = ANY($1::uuid[]) AND status = 'scored'",
            ids,
        )
    finally:
        await conn.close()
    return int(count)


async def count_rows(config: StackConfig, service: str, table: str) -> int:
    conn = await asyncpg.connect(config.service_dsn(service))
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


async def fetch_versions(
    config: StackConfig, service: str, table: str, ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, int]]:
    """Every (submission_id, version) row of ``table`` in ``service``'s schema for ``ids``."""
    conn = await asyncpg.connect(config.service_dsn(service))
    try:
        rows = await conn.fetch(
            f"SELECT submission_id, version FROM {table} WHERE submission_id = ANY($1::uuid[])",
            ids,
        )
    finally:
        await conn.close()
    return [(row["submission_id"], row["version"]) for row in rows]


async def until(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    within: float,
    what: str,
    logs: Callable[[], str],
) -> T:
    """Call ``probe`` until ``done(result)``; after ``within`` s fail naming ``what``, the last
    result and the relevant logs."""
    deadline = time.monotonic() + within
    last: Any = None
    while True:
        try:
            last = await probe()
            if done(last):
                return last
        except (OSError, httpx.HTTPError, asyncpg.PostgresError, KafkaError) as error:
            last = error
        if time.monotonic() > deadline:
            raise AssertionError(
                f"waited {within:.0f} s for {what}; last result: {last!r}\n{logs()}"
            )
        await asyncio.sleep(0.25)


def relay_lines(config: StackConfig, service: str) -> str:
    """What the service's outbox relay logged lately (it logs every failed attempt)."""
    path = config.log_file(service)
    lines = [line for line in path.read_text(errors="replace").splitlines() if "outbox" in line]
    shown = "\n".join(lines[-10:]) or "(nothing: no failed attempt was logged)"
    return f"--- outbox relay lines of {path}:\n{shown}"


def log_tail(config: StackConfig, component: str, lines: int = 40) -> str:
    path: Path = config.log_file(component)
    return f"--- last lines of {path}:\n{processes.log_tail(path, lines)}"
