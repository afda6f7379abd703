"""Scoring against the real broker and database: once per event, poison dead-lettered."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import CollectorRegistry

from services.scoring.app import build_runtime
from services.scoring.settings import ScoringSettings
from shared.events import Envelope, SourceSummary, SubmissionReceived, SubmissionScored
from shared.messaging.runtime import ServiceRuntime
from shared.topics import Topic
from tests.support.isolation import Isolated
from tests.support.kafka import read_all, send
from tests.support.polling import eventually
from tests.support.samples import (
    as_version_1,
    as_version_2,
    citizen_survey,
    received_event,
    with_evidence,
)


@pytest.fixture
async def scoring(isolated: Isolated) -> AsyncIterator[ServiceRuntime]:
    settings = ScoringSettings(
        database_url=isolated.service_url("scoring"),
        kafka_bootstrap=isolated.kafka_bootstrap,
        topic_namespace=isolated.namespace,
    )
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def test_redelivered_event_is_scored_once_and_poison_is_dead_lettered(
    isolated: Isolated, scoring: ServiceRuntime
) -> None:
    received = isolated.topics(Topic.SUBMISSION_RECEIVED)
    first = received_event("GECC-0001")
    unknown_standard = received_event("GECC-0001").model_dump(mode="json")
    unknown_standard["data"]["checklist"]["standard"] = "no-such-standard"
    after_poison = received_event("GECC-0001", unmet=("P01",))
    key = b"GECC-0001"
    payload = first.model_dump_json().encode()
    await send(
        isolated.kafka_bootstrap,
        received,
        [
            (key, payload),
            (key, payload),  # the same event again, as a redelivery would bring it
            (key, b'{"event_id": "not even json'),
            (
                key,
                Envelope[SubmissionReceived]
                .model_validate(unknown_standard)
                .model_dump_json()
                .encode(),
            ),
            (key, after_poison.model_dump_json().encode()),
        ],
    )

    scored = await read_all(isolated.kafka_bootstrap, isolated.topics(Topic.SUBMISSION_SCORED), 2)
    events = [Envelope[SubmissionScored].model_validate_json(r.value) for r in scored]
    assert [(e.data.submission_id, e.data.verdict) for e in events] == [
        (first.data.submission_id, "maintained"),
        (after_poison.data.submission_id, "not_maintained"),
    ]
    assert all(r.key == key for r in scored)

    dead = await read_all(isolated.kafka_bootstrap, isolated.topics.dead_letter("scoring"), 2)
    reasons = [dict(r.headers)["x-gecc-error-reason"].decode() for r in dead]
    assert reasons == ["invalid_event", "rejected"]
    assert dead[0].value == b'{"event_id": "not even json'
    assert b"no-such-standard" in dict(dead[1].headers)["x-gecc-error"]
    assert dict(dead[1].headers)["x-gecc-original-offset"] == b"3"

    registry = scoring.registry
    assert (
        metric(
            registry,
            "gecc_dead_letters_total",
            service="scoring",
            topic=received,
            reason="invalid_event",
        )
        == 1
    )
    assert (
        metric(
            registry,
            "gecc_events_consumed_total",
            service="scoring",
            topic=received,
            outcome="duplicate",
        )
        == 1
    )
    async with scoring.pool.acquire() as conn:
        rows = await conn.fetch("SELECT submission_id, verdict FROM scores ORDER BY scored_at")
    assert [r["verdict"] for r in rows] == ["maintained", "not_maintained"]


async def test_offsets_are_committed_after_processing(
    isolated: Isolated, scoring: ServiceRuntime
) -> None:
    received = isolated.topics(Topic.SUBMISSION_RECEIVED)
    events = [received_event(f"GECC-{n:04d}") for n in range(1, 21)]
    await send(
        isolated.kafka_bootstrap,
        received,
        [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in events],
    )

    async def committed() -> int:
        admin = AIOKafkaAdminClient(bootstrap_servers=isolated.kafka_bootstrap)
        await admin.start()
        try:
            offsets = await admin.list_consumer_group_offsets(scoring.settings.consumer_group)
        finally:
            await admin.close()
        return sum(o.offset for tp, o in offsets.items() if tp.topic == received and o.offset > 0)

    assert await eventually(committed, lambda n: n == 20) == 20
    async with scoring.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM scores") == 20
        assert await conn.fetchval("SELECT count(*) FROM inbox") == 20


async def test_scores_are_dated_by_the_shared_clock(isolated: Isolated) -> None:
    """Every service reads one timeline (shared/clock.py): on an accelerated or shifted
    clock a score is dated on it, like a receipt or a reminder."""
    virtual = datetime(2027, 4, 30, 16, 0, tzinfo=UTC)
    settings = ScoringSettings(
        database_url=isolated.service_url("scoring"),
        kafka_bootstrap=isolated.kafka_bootstrap,
        topic_namespace=isolated.namespace,
        clock_start=virtual,
        clock_epoch=datetime.now(UTC),
    )
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        event = received_event("GECC-0001")
        topic = isolated.topics(Topic.SUBMISSION_RECEIVED)
        await send(
            isolated.kafka_bootstrap, topic, [(b"GECC-0001", event.model_dump_json().encode())]
        )
        scored = await read_all(
            isolated.kafka_bootstrap, isolated.topics(Topic.SUBMISSION_SCORED), 1
        )
    finally:
        await runtime.stop()
    published = Envelope[SubmissionScored].model_validate_json(scored[0].value)
    assert virtual <= published.data.scored_at < virtual + timedelta(minutes=2)
    assert published.occurred_at == published.data.scored_at


async def test_events_of_schema_versions_1_2_and_3_are_scored_with_their_source(
    isolated: Isolated, scoring: ServiceRuntime
) -> None:
    """Version 1 (no evidence, no source), version 2 (evidence, no source): the center's own
    survey; version 3 with a citizen survey: its score says so, with the responses."""
    citizen = with_evidence(received_event("GECC-0003", source=citizen_survey(412)))
    assert citizen.schema_version == 3 and len(citizen.data.evidence) == 2
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SUBMISSION_RECEIVED),
        [
            (b"GECC-0001", as_version_1(received_event("GECC-0001", source=citizen_survey()))),
            (b"GECC-0002", as_version_2(with_evidence(received_event("GECC-0002")))),
            (b"GECC-0003", citizen.model_dump_json().encode()),
        ],
    )
    scored = await read_all(isolated.kafka_bootstrap, isolated.topics(Topic.SUBMISSION_SCORED), 3)
    events = [Envelope[SubmissionScored].model_validate_json(r.value).data for r in scored]
    by_center = {e.center_id: e for e in events}
    assert {c: e.verdict for c, e in by_center.items()} == {
        "GECC-0001": "maintained",
        "GECC-0002": "maintained",
        "GECC-0003": "maintained",
    }
    assert by_center["GECC-0001"].checklist == by_center["GECC-0002"].checklist
    assert {c: e.satisfaction_source for c, e in by_center.items()} == {
        "GECC-0001": SourceSummary(kind="center_survey"),
        "GECC-0002": SourceSummary(kind="center_survey"),
        "GECC-0003": SourceSummary(kind="citizen_survey", responses=412),
    }
    raw = {json.loads(r.value)["data"]["center_id"]: json.loads(r.value)["data"] for r in scored}
    assert raw["GECC-0003"]["satisfaction_source"] == {"kind": "citizen_survey", "responses": 412}
