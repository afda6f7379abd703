"""Submission versions written in batches (``versions``) on the real database: each
request gets its own outcome, a center's versions keep their order, and a conflict with
another writer concerns only its own request."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.intake.adapters import versions
from services.intake.adapters.round_book import RoundBook, RoundTerms
from services.intake.adapters.versions import NewVersion, VersionWriter
from services.intake.domain.submissions import Report, accept
from shared.events import Envelope, SubmissionReceived
from shared.submission import SubmissionBody
from shared.topics import Topic
from tests.integration.test_intake_api import ROUND, Intake, start_intake
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.samples import submission_body


@pytest.fixture
async def intake(isolated: Isolated) -> AsyncIterator[Intake]:
    async for running in start_intake(isolated):
        yield running


@pytest.fixture
async def pool(isolated: Isolated, intake: Intake) -> AsyncIterator[asyncpg.Pool]:
    async with isolated.service_pool("intake", max_size=6) as pool:
        yield pool


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    sizes: list[int] = []
    store = versions.store

    async def counted(pool: asyncpg.Pool, written: list[NewVersion]) -> Any:
        sizes.append(len(written))
        return await store(pool, written)

    monkeypatch.setattr(versions, "store", counted)
    return sizes


async def version(
    pool: asyncpg.Pool, center_id: str, key: str, respondents: int = 412
) -> NewVersion:
    terms = await RoundBook().terms(pool, ROUND)
    assert terms is not None
    return _version(terms, center_id, key, respondents)


def _version(terms: RoundTerms, center_id: str, key: str, respondents: int) -> NewVersion:
    raw = json.dumps(submission_body(ROUND, respondents=respondents)).encode()
    report = Report(
        center_id=center_id,
        actor=f"center:{center_id}",
        body=SubmissionBody.model_validate_json(raw),
        raw_body=raw,
        idempotency_key=key,
        remote_addr="127.0.0.1",
        received_at=datetime.now(UTC),
    )
    acceptance = accept(terms.round, report.received_at, None)
    return NewVersion.of(report, terms, acceptance)


async def test_waiting_versions_go_together_each_with_its_own_outcome(
    pool: asyncpg.Pool, intake: Intake, batch_sizes: list[int]
) -> None:
    writer = VersionWriter(max_batch=64, max_in_flight=1)
    earlier = await version(pool, "GECC-0003", "used")
    assert not (await writer.write(pool, earlier)).replay  # alone: a batch of one
    assert batch_sizes == [1]
    fresh = [await version(pool, c, f"k-{c}") for c in ("GECC-0001", "GECC-0002")]
    replayed = await version(pool, "GECC-0003", "used")
    stale = replace(
        await version(pool, "GECC-0003", "k-stale"), due_at=earlier.due_at + timedelta(days=1)
    )
    amendments = [await version(pool, "GECC-0001", f"amend-{n}", 500 + n) for n in range(3)]

    outcomes = await asyncio.gather(
        *(writer.write(pool, v) for v in [*fresh, replayed, stale, *amendments])
    )

    # The first goes alone; the others wait for it, then go at most one per center at a
    # time: [0002, 0003 replayed, 0001 amended], which fails on the used key and is written
    # again one by one, [0003 stale, 0001 amended], the last alone.
    assert batch_sizes == [1, 1, 3, 1, 1, 1, 2, 1]
    a, b, again, old, *amended = outcomes
    assert (again.replay, again.submission_id) == (True, None)
    assert (old.replay, old.stale, old.submission_id) == (False, True, None)
    assert [o.version for o in (a, *amended)] == [1, 2, 3, 4]
    assert {o.submission_id for o in (a, *amended)} == {a.submission_id}
    assert b.version == 1 and b.submission_id != a.submission_id
    assert a.receipt_number == f"{ROUND}/GECC-0001/v1"
    stored = await intake.fetch(
        "SELECT s.center_id, v.version, (v.body->'satisfaction'->>'respondents')::int AS n"
        " FROM submission_versions v JOIN submissions s ON s.id = v.submission_id"
        " WHERE s.center_id = 'GECC-0001' ORDER BY v.version"
    )
    assert [(r["version"], r["n"]) for r in stored] == [(1, 412), (2, 500), (3, 501), (4, 502)]
    published = await read_all(
        intake.isolated.kafka_bootstrap, intake.isolated.topics(Topic.SUBMISSION_RECEIVED), 6
    )
    events = [Envelope[SubmissionReceived].model_validate_json(r.value).data for r in published]
    assert [e.version for e in events if e.center_id == "GECC-0001"] == [1, 2, 3, 4]
    assert sorted((e.center_id, e.version) for e in events if e.center_id != "GECC-0001") == [
        ("GECC-0002", 1),
        ("GECC-0003", 1),
    ]
    audit = await intake.fetch("SELECT target FROM audit_log WHERE action = 'submission.create'")
    assert len(audit) == 6  # earlier, two fresh, three amendments; no replay, no stale


async def test_a_key_racing_another_writer_fails_only_its_own_request(
    pool: asyncpg.Pool, intake: Intake, batch_sizes: list[int]
) -> None:
    writer = VersionWriter(max_batch=64, max_in_flight=1)
    blocker = await version(pool, "GECC-0003", "slow")  # keeps the batch waiting
    batch = [
        await version(pool, "GECC-0001", "raced"),
        await version(pool, "GECC-0002", "free"),
        await version(pool, "GECC-0003", "free"),
    ]
    other = await asyncpg.connect(intake.db)
    try:
        transaction = other.transaction()
        await transaction.start()
        await versions.store(other, [await version(pool, "GECC-0001", "raced")])
        first = asyncio.ensure_future(writer.write(pool, blocker))
        racing = [asyncio.ensure_future(writer.write(pool, v)) for v in batch]
        await asyncio.sleep(0.5)  # the batch now waits on the uncommitted key
        assert not any(r.done() for r in racing)
        await transaction.commit()
        await first
        results = await asyncio.gather(*racing, return_exceptions=True)
    finally:
        await other.close()
    # The batch failed on the key; written again alone, the request finds it committed.
    assert [getattr(r, "replay", None) for r in results] == [True, False, False]
    assert [getattr(r, "version", None) for r in results[1:]] == [1, 2]
    # The other writer's, the blocker's, the batch's, then each of its versions again.
    assert batch_sizes == [1, 1, 3, 1, 1, 1]
    keys = await intake.fetch("SELECT idempotency_key FROM idempotency_keys ORDER BY 1")
    assert [k["idempotency_key"] for k in keys] == ["free", "free", "raced", "slow"]


async def test_an_error_of_one_request_fails_that_request_alone(
    pool: asyncpg.Pool, intake: Intake, batch_sizes: list[int]
) -> None:
    writer = VersionWriter(max_batch=64, max_in_flight=1)
    first = asyncio.ensure_future(writer.write(pool, await version(pool, "GECC-0003", "first")))
    broken = replace(await version(pool, "GECC-0002", "k"), body="{not json")
    waiting = [await version(pool, "GECC-0001", "k"), broken]
    results = await asyncio.gather(
        *(writer.write(pool, v) for v in waiting), first, return_exceptions=True
    )
    # The first alone, then the valid and the broken version together, then each again.
    assert batch_sizes == [1, 2, 1, 1]
    assert results[0].version == 1  # type: ignore[union-attr]
    assert isinstance(results[1], asyncpg.InvalidTextRepresentationError)
    stored = await intake.fetch(
        "SELECT s.center_id FROM submission_versions v JOIN submissions s"
        " ON s.id = v.submission_id ORDER BY 1"
    )
    assert [r["center_id"] for r in stored] == ["GECC-0001", "GECC-0003"]


async def test_poisoned_reports_never_cost_another_center_its_report(intake: Intake) -> None:
    """Reports whose text the database cannot store, sent at the same moments as the valid
    reports of other centers: every valid one is accepted, every poisoned one refused."""
    poisoned = submission_body(ROUND)
    poisoned["checklist"]["items"][0]["evidence"] = "ภาพถ่าย\u0000"
    sends = [
        intake.submit(who) if who != "a" else intake.submit("a", poisoned)
        for _ in range(20)
        for who in ("a", "b", "c")
    ]
    answers = await asyncio.gather(*sends)
    assert [a.status_code for a in answers[0::3]] == [422] * 20
    assert [a.status_code for a in answers[1::3] + answers[2::3]] == [201] * 40
    assert answers[0].json()["errors"][0]["field"] == "checklist.items.0.evidence"
    versions = await intake.fetch("SELECT count(*) AS n FROM submission_versions")
    assert versions[0]["n"] == 40
