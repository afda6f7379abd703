"""Scoring against the real broker and database: change since the previous round,
re-scoring after a corrected standard, and a crash between the two commits."""

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest
from prometheus_client import CollectorRegistry

from services.scoring import admin
from services.scoring.adapters import repository
from services.scoring.app import build_runtime
from services.scoring.handlers import build_score
from services.scoring.metrics import ScoringMetrics
from services.scoring.settings import ScoringSettings
from shared.database import connect
from shared.events import Envelope, SubmissionReceived, SubmissionScored, new_event
from shared.messaging.consumer import FAILPOINT_ENV, FAILPOINT_EXIT_CODE
from shared.messaging.outbox import outbox_values
from shared.messaging.runtime import ServiceRuntime
from shared.standards import default_standards_dir, load_catalog
from shared.topics import Topic
from tests.support.infrastructure import REPO
from tests.support.isolation import Isolated
from tests.support.kafka import read_all, send
from tests.support.polling import eventually
from tests.support.samples import received_event


def settings_for(isolated: Isolated) -> ScoringSettings:
    return ScoringSettings(
        database_url=isolated.service_url("scoring"),
        kafka_bootstrap=isolated.kafka_bootstrap,
        topic_namespace=isolated.namespace,
    )


@pytest.fixture
async def scoring(isolated: Isolated) -> AsyncIterator[ServiceRuntime]:
    runtime = build_runtime(settings_for(isolated))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()


async def scored_events(isolated: Isolated, expected: int) -> list[Envelope[SubmissionScored]]:
    records = await read_all(
        isolated.kafka_bootstrap, isolated.topics(Topic.SUBMISSION_SCORED), expected
    )
    return [Envelope[SubmissionScored].model_validate_json(r.value) for r in records]


async def test_a_result_carries_its_change_since_the_previous_round(
    isolated: Isolated, scoring: ServiceRuntime
) -> None:
    before = received_event("GECC-0001", round_id="FY2569-FY", counts=[10, 10, 10, 10, 10])
    now = received_event("GECC-0001", round_id="FY2570-H1")
    topic = isolated.topics(Topic.SUBMISSION_RECEIVED)
    await send(isolated.kafka_bootstrap, topic, [(b"GECC-0001", before.model_dump_json().encode())])
    await scored_events(isolated, 1)
    await send(isolated.kafka_bootstrap, topic, [(b"GECC-0001", now.model_dump_json().encode())])
    first, second = [e.data for e in await scored_events(isolated, 2)]
    assert (first.verdict, first.change, first.previous) == ("at_risk", "first_result", None)
    assert first.reasons[0].text_th.startswith("ความพึงพอใจร้อยละ 60.0")
    assert second.previous is not None and second.previous.round_id == "FY2569-FY"
    assert (second.verdict, second.change) == ("maintained", "improved")
    assert second.satisfaction_change == round(90.15 - 60.0, 2)


async def test_in_one_batch_a_result_compares_with_the_previous_round_scored_just_before(
    isolated: Isolated,
) -> None:
    # Sent before the scorer starts, so that they come in one batch: its previous results
    # are read once for the batch and must include the score written earlier in it; an
    # event with a malformed round id fails on its own.
    before = received_event("GECC-0001", round_id="FY2569-FY", counts=[10, 10, 10, 10, 10])
    now = received_event("GECC-0001", round_id="FY2570-H1")
    odd = received_event("GECC-0002")
    odd = new_event(odd.data.model_copy(update={"round_id": "2570"}), "test")
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SUBMISSION_RECEIVED),
        [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in (odd, before, now)],
    )
    runtime = build_runtime(settings_for(isolated))
    await runtime.start()
    try:
        scored = [e.data for e in await scored_events(isolated, 2)]
        dead = await read_all(isolated.kafka_bootstrap, isolated.topics.dead_letter("scoring"), 1)
    finally:
        await runtime.stop()
    assert [(s.round_id, s.change) for s in scored] == [
        ("FY2569-FY", "first_result"),
        ("FY2570-H1", "improved"),
    ]
    assert scored[1].previous is not None and scored[1].previous.verdict == "at_risk"
    assert [r.key for r in dead] == [b"GECC-0002"]


async def test_rescore_publishes_new_score_versions_only_where_the_result_changed(
    isolated: Isolated, scoring: ServiceRuntime, tmp_path: Path
) -> None:
    satisfied = [received_event(f"GECC-{n:04d}") for n in range(1, 4)]  # 90.15 %
    lukewarm = received_event("GECC-0009", counts=[0, 0, 0, 200, 212])  # 90.29 %
    strong = received_event("GECC-0010", counts=[0, 0, 0, 12, 400])  # 99.42 %
    events = [*satisfied, lukewarm, strong]
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SUBMISSION_RECEIVED),
        [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in events],
    )
    await scored_events(isolated, len(events))

    corrected = tmp_path / "standards"
    corrected.mkdir()
    source = (default_standards_dir() / "gecc-maintenance-2570.toml").read_text()
    (corrected / "gecc-maintenance-2570.toml").write_text(
        source.replace("version = 1", "version = 2").replace(
            "satisfaction_percent = 85.0", "satisfaction_percent = 95.0"
        ),
        encoding="utf-8",
    )
    conn = await connect(isolated.service_url("scoring"))
    try:
        async with conn.transaction():
            result = await admin.rescore_round(
                conn,
                load_catalog(corrected),
                "FY2570-H1",
                ScoringMetrics(CollectorRegistry()),
                datetime.now(UTC),
            )
        versions = await conn.fetch(
            "SELECT center_id, score_version, verdict FROM scores WHERE score_version = 2"
            " ORDER BY center_id"
        )
    finally:
        await conn.close()
    assert result.checked == 5
    assert sorted(result.changed) == ["GECC-0001", "GECC-0002", "GECC-0003", "GECC-0009"]
    assert {(r["center_id"], r["verdict"]) for r in versions} == {
        (c, "at_risk") for c in result.changed
    }
    rescored = [
        e.data for e in await scored_events(isolated, len(events) + 4) if e.data.score_version == 2
    ]
    assert sorted(e.center_id for e in rescored) == sorted(result.changed)
    assert all(e.standard_version == 2 for e in rescored)


async def test_rescore_applies_the_sample_of_the_fewest_answers_to_stored_versions(
    isolated: Isolated,
) -> None:
    # Stored as the scorer scored before the sample counted answers: 30 respondents declared
    # and one answer a question passed the minimum of 30 and was `maintained`.
    catalog = load_catalog(default_standards_dir())
    thin = received_event("GECC-0001", respondents=30, counts=[0, 0, 0, 0, 1]).data
    full = received_event("GECC-0002").data
    old_rule = build_score(catalog, thin, datetime.now(UTC)).model_copy(
        update={"verdict": "maintained", "reasons": []}
    )

    def stored(data: SubmissionReceived, score: SubmissionScored) -> repository.ScoredVersion:
        event = new_event(score, producer="scoring")
        return repository.ScoredVersion(
            data, str(uuid4()), score, outbox_values(Topic.SUBMISSION_SCORED, data.center_id, event)
        )

    conn = await connect(isolated.service_url("scoring"))
    try:
        await repository.keep_and_score_many(
            conn,
            [stored(thin, old_rule), stored(full, build_score(catalog, full, datetime.now(UTC)))],
        )
        async with conn.transaction():
            result = await admin.rescore_round(
                conn, catalog, "FY2570-H1", ScoringMetrics(CollectorRegistry()), datetime.now(UTC)
            )
        rescored = await conn.fetch(
            "SELECT center_id, verdict, scorecard::text FROM scores WHERE score_version = 2"
        )
    finally:
        await conn.close()
    assert (result.checked, result.changed) == (2, ["GECC-0001"])
    ((center, verdict, scorecard),) = [tuple(r) for r in rescored]
    assert (center, verdict) == ("GECC-0001", "at_risk")
    (reason,) = SubmissionScored.model_validate_json(scorecard).reasons
    assert reason.code == "sample_too_small"
    assert reason.detail == {
        "sample": 1,
        "question": "S1",
        "respondents": 30,
        "minimum": 30,
        "source": "center_survey",
    }
    assert reason.text_en.startswith("The smallest number of answers to a question was 1 (S1)")


async def test_a_crash_between_database_and_offset_commit_scores_nothing_twice(
    isolated: Isolated, tmp_path: Path
) -> None:
    events = [received_event(f"GECC-{n:04d}") for n in range(1, 31)]
    await send(
        isolated.kafka_bootstrap,
        isolated.topics(Topic.SUBMISSION_RECEIVED),
        [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in events],
    )
    env = {
        **os.environ,
        "GECC_KAFKA_BOOTSTRAP": isolated.kafka_bootstrap,
        "GECC_TOPIC_NAMESPACE": isolated.namespace,
        "GECC_SCORING_DATABASE_URL": isolated.service_url("scoring"),
        "GECC_SCORING_HTTP_PORT": "0",
        FAILPOINT_ENV: "exit-after-commit",
    }
    with (tmp_path / "crash.log").open("wb") as log:
        crashing = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.scoring",
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        async with asyncio.timeout(90):
            code = await crashing.wait()
    assert code == FAILPOINT_EXIT_CODE, (tmp_path / "crash.log").read_text()[-2000:]

    conn = await connect(isolated.service_url("scoring"))
    try:
        scored_before_crash = await conn.fetchval("SELECT count(*) FROM scores")
        assert scored_before_crash > 0
        restarted = build_runtime(settings_for(isolated))
        await restarted.start()
        received_topic = isolated.topics(Topic.SUBMISSION_RECEIVED)

        async def outcome(name: str) -> float:
            labels = {"service": "scoring", "topic": received_topic, "outcome": name}
            return restarted.registry.get_sample_value("gecc_events_consumed_total", labels) or 0

        try:
            # The crashed process committed its scores but not its offsets: every event it
            # scored comes again, is recognised, and the rest are scored now.
            duplicates = await eventually(
                lambda: outcome("duplicate"), lambda n: n >= scored_before_crash, within=60
            )
            await eventually(
                lambda: conn.fetchval("SELECT count(*) FROM scores"),
                lambda n: n >= len(events),
                within=60,
            )
            processed_after_restart = await outcome("processed")
            rows = await conn.fetch(
                "SELECT submission_id, count(*) AS n FROM scores GROUP BY submission_id"
            )
        finally:
            await restarted.stop()
    finally:
        await conn.close()
    assert len(rows) == len(events) and {r["n"] for r in rows} == {1}
    assert duplicates == scored_before_crash
    assert processed_after_restart == len(events) - scored_before_crash
    published = await scored_events(isolated, len(events))
    assert len({e.data.submission_id for e in published}) == len(events)


async def test_a_batch_write_keeps_each_score_once_with_one_event(isolated: Isolated) -> None:
    received = received_event("GECC-0001").data
    other = received_event("GECC-0002").data
    catalog = load_catalog(default_standards_dir())

    def version(data: SubmissionReceived) -> repository.ScoredVersion:
        score = build_score(catalog, data, datetime.now(UTC))
        event = new_event(score, producer="scoring")
        return repository.ScoredVersion(
            data, str(uuid4()), score, outbox_values(Topic.SUBMISSION_SCORED, data.center_id, event)
        )

    conn = await connect(isolated.service_url("scoring"))
    try:
        await conn.execute("DELETE FROM outbox")
        twice = [version(received), version(other), version(received)]
        new = await repository.keep_and_score_many(conn, twice)
        assert new == {(received.submission_id, 1), (other.submission_id, 1)}
        assert await repository.keep_and_score_many(conn, [version(received)]) == set()
        keys = await conn.fetch("SELECT message_key FROM outbox ORDER BY id")
        counts = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM scores) AS scores,"
            " (SELECT count(*) FROM received_submissions) AS received"
        )
    finally:
        await conn.close()
    assert [k["message_key"] for k in keys] == ["GECC-0001", "GECC-0002"]
    assert tuple(counts) == (2, 2)
