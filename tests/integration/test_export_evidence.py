"""Evidence files in the export, on real PostgreSQL, the real S3 server and the real reference
PMO receiver (its own process): each record lists its files (a version-1 event none), and a
full export delivers the round's evidence package in signed parts (a delta, its records'
files the receiver lacks), the receiver verifying each file's SHA-256; a transfer broken
off resumes with only the missing parts, and an object corrupted in storage ends, after its
tries, as the export's mismatch. The last test runs the export's runtime on the real
broker: version-1 and version-2 events in, the export's status with the package's counts
out."""

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
from prometheus_client import CollectorRegistry

from gecc.pmo_receiver.client import signed_get_headers
from services.export import handlers
from services.export.adapters import repository
from services.export.adapters.evidence import EvidenceSource, object_key
from services.export.adapters.pmo import PmoClient
from services.export.app import build_runtime
from services.export.domain.evidence import MISMATCH_TRIES, PART_SIZE
from services.export.domain.exports import Export
from services.export.metrics import ExportMetrics, Timings
from services.export.settings import ExportSettings
from shared.events import (
    CenterRegistered,
    Envelope,
    EvidenceFile,
    ExportRequested,
    SubmissionReceived,
    new_event,
)
from shared.object_storage import ObjectStorage, ObjectStorageConfig
from shared.retry import RetryPolicy
from shared.topics import Topic
from tests.support.infrastructure import REPO
from tests.support.isolation import Isolated
from tests.support.kafka import read_all, send
from tests.support.polling import eventually
from tests.support.samples import received_event
from tests.support.services import free_port

ROUND = "FY2570-H1"
SECRET = "evidence-test-secret"
POLICY = RetryPolicy(
    max_attempts=1_000_000, first=timedelta(milliseconds=10), cap=timedelta(milliseconds=10)
)


class Receiver:
    def __init__(self, directory: Path, log: Path) -> None:
        self.directory = directory
        self.url = f"http://127.0.0.1:{free_port()}"
        command = [
            sys.executable, "-m", "gecc.pmo_receiver", "--port", self.url.rsplit(":", 1)[1],
            "--dir", str(directory), "--secret", SECRET,
        ]  # fmt: skip
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        for _ in range(150):
            assert self.process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{self.url}/health", timeout=1, trust_env=False).is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the receiver did not start:\n{log.read_text()}")

    def control(self, **changes: Any) -> Any:
        answer = httpx.put(f"{self.url}/control", json=changes, timeout=10, trust_env=False)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def counters(self) -> dict[str, int]:
        answer = httpx.get(f"{self.url}/control", timeout=10, trust_env=False)
        counters: dict[str, int] = answer.json()["counters"]
        return counters

    def get(self, path: str) -> Any:
        headers = signed_get_headers(SECRET, path)
        answer = httpx.get(f"{self.url}{path}", headers=headers, timeout=10, trust_env=False)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    process = Receiver(tmp_path / "pmo", tmp_path / "pmo.log")
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def storage(object_storage_config: ObjectStorageConfig) -> AsyncIterator[ObjectStorage]:
    async with ObjectStorage(object_storage_config) as opened:
        yield opened


async def store(storage: ObjectStorage, content: bytes, under: str | None = None) -> str:
    """Put ``content`` where intake would (under its own SHA-256, or ``under``'s)."""
    sha = under or hashlib.sha256(content).hexdigest()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(content), 1 << 20):
            yield content[start : start + (1 << 20)]

    await storage.put(object_key(sha), chunks())
    return sha


def evidence_file(item: str, name: str, content_type: str, content: bytes) -> EvidenceFile:
    return EvidenceFile(
        file_id=uuid4(),
        item_code=item,
        name=name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def version_2(
    center: str, files: list[EvidenceFile], version: int = 1
) -> Envelope[SubmissionReceived]:
    """Schema version 2 (with ``evidence``); ``version``: the submission's version."""
    event = received_event(center, version)
    return event.model_copy(update={"data": event.data.model_copy(update={"evidence": files})})


def version_1(center: str) -> Envelope[SubmissionReceived]:
    """As intake published it before evidence files: schema version 1, no ``evidence``."""
    raw = json.loads(received_event(center).model_dump_json())
    del raw["data"]["evidence"]
    raw["schema_version"] = 1
    return Envelope[SubmissionReceived].model_validate(raw)


async def prepared(
    pool: asyncpg.Pool, centers: list[str], events: list[Envelope[SubmissionReceived]]
) -> Export:
    """The registry and the versions kept by the export's consumers; a full export claimed."""
    async with pool.acquire() as conn:
        for center in centers:
            await handlers.keep_center(
                conn,
                Envelope[CenterRegistered].model_validate(
                    {
                        "event_id": uuid4(),
                        "event_type": "center.registered",
                        "occurred_at": datetime.now(UTC),
                        "producer": "test",
                        "schema_version": 1,
                        "data": {"center_id": center, "name_th": f"ศูนย์ {center}",
                                 "office_path": "PMO/BMA"},
                    }
                ),
            )  # fmt: skip
        await handlers.keep_submissions(conn, events)
        export_id = await repository.create_export(conn, ROUND, "full", "operator", uuid4())
        claimed = await repository.claim_export(conn, 60.0)
    assert claimed is not None and claimed.id == export_id
    return claimed


async def deliver(
    export: Export, pool: asyncpg.Pool, receiver: Receiver, storage: ObjectStorage
) -> Export:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        pmo = PmoClient(client, receiver.url, SECRET)
        metrics = ExportMetrics(CollectorRegistry())
        return await handlers.deliver(
            export, pool, pmo, EvidenceSource(storage), POLICY, metrics, Timings()
        )


async def build(export: Export, pool: asyncpg.Pool, directory: Path) -> Export:
    metrics = ExportMetrics(CollectorRegistry())
    return await handlers.build(export, pool, directory, 500, metrics, Timings())


async def test_records_list_evidence_and_the_package_resumes_with_only_missing_parts(
    isolated: Isolated, storage: ObjectStorage, receiver: Receiver, tmp_path: Path
) -> None:
    photo = b"\xff\xd8\xff\xe0" + os.urandom(12_341)
    minutes = b"%PDF-1.7\n" + os.urandom(2 * PART_SIZE + 123_456)  # three parts
    for content in (photo, minutes):
        await store(storage, content)
    shared_photo = evidence_file("P01", "ป้าย.jpg", "image/jpeg", photo)
    events = [
        version_2(
            "GECC-0001",
            [shared_photo, evidence_file("P02", "minutes.pdf", "application/pdf", minutes)],
        ),
        # Another center sent the same bytes under another name: one file, two references.
        version_2("GECC-0002", [evidence_file("P01", "=sign.jpg", "image/jpeg", photo)]),
        version_1("GECC-0003"),
    ]
    async with isolated.service_pool("export") as pool:
        export = await prepared(pool, ["GECC-0001", "GECC-0002", "GECC-0003"], events)
        built = await build(export, pool, tmp_path / "exports")
        assert built.counts["evidence_files"] == 2
        assert built.counts["evidence_bytes"] == len(photo) + len(minutes)

        # The files: records.jsonl, the CSV column, evidence.csv in the manifest.
        directory = Path(str(built.directory))
        lines = [json.loads(line) for line in (directory / "records.jsonl").open()]
        assert [len(r["evidence"]) for r in lines] == [2, 1, 0]
        assert lines[0]["evidence"][1] == {
            "item_code": "P02",
            "name": "minutes.pdf",
            "content_type": "application/pdf",
            "size": len(minutes),
            "sha256": hashlib.sha256(minutes).hexdigest(),
        }
        table = list(
            csv.DictReader(io.StringIO((directory / "records.csv").read_text("utf-8-sig")))
        )
        assert table[1]["evidence"] == (
            f"P01: =sign.jpg (image/jpeg, {len(photo):,} bytes, sha256 {shared_photo.sha256})"
        )
        assert table[2]["evidence"] == ""
        rows = list(csv.reader(io.StringIO((directory / "evidence.csv").read_text("utf-8-sig"))))
        assert rows[0] == ["center_id", "item_code", "name", "content_type", "size", "sha256"]
        assert [r[:3] for r in rows[1:]] == [
            ["GECC-0001", "P01", "ป้าย.jpg"],
            ["GECC-0001", "P02", "minutes.pdf"],
            ["GECC-0002", "P01", "'=sign.jpg"],
        ]
        manifest = json.loads((directory / "manifest.json").read_text())
        listed = {f["name"]: f["sha256"] for f in manifest["files"]}
        content = (directory / "evidence.csv").read_bytes()
        assert listed["evidence.csv"] == hashlib.sha256(content).hexdigest()

        # The transfer breaks off after the first part of the three-part file.
        minutes_sha = hashlib.sha256(minutes).hexdigest()
        photo_first = shared_photo.sha256 < minutes_sha
        receiver.control(parts_before_failure=2 if photo_first else 1)
        failed = await deliver(built, pool, receiver, storage)
        assert (failed.state, failed.attempts) == ("delivering", 1)
        # Refused before its body was read, the connection closed: part 2 broke off.
        assert f"{minutes_sha}/parts/2" in str(failed.last_error)
        held = receiver.get(f"/gecc/v1/rounds/{ROUND}/evidence/{minutes_sha}")
        assert (held["parts"], held["received_bytes"]) == ([1], PART_SIZE)

        receiver.control(parts_before_failure=None)
        done = await deliver(failed, pool, receiver, storage)
        assert done.state == "reconciled", done.last_error
        assert done.acknowledged["evidence_files"] == 2
        assert done.acknowledged["evidence_bytes"] == len(photo) + len(minutes)

    counters = receiver.counters()
    # 1 + 3 parts, each stored once: the resumed attempt sent parts 2 and 3 only.
    assert (counters["parts_stored"], counters["parts_repeated"]) == (4, 0)
    assert (counters["evidence_verified"], counters["evidence_mismatched"]) == (2, 0)
    for content in (photo, minutes):
        sha = hashlib.sha256(content).hexdigest()
        kept = receiver.directory / "evidence" / ROUND / sha / "file"
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == sha
    package = json.loads(
        next((receiver.directory / "evidence" / ROUND).glob("manifest-*.json")).read_text()
    )
    by_sha = {f["sha256"]: f for f in package["files"]}
    assert [r["center_id"] for r in by_sha[shared_photo.sha256]["references"]] == [
        "GECC-0001",
        "GECC-0002",
    ]
    # The batches carried each record's evidence to the PMO system.
    records = receiver.get(f"/gecc/v1/rounds/{ROUND}/records")["records"]
    assert {r["center_id"]: len(r["evidence"]) for r in records} == {
        "GECC-0001": 2,
        "GECC-0002": 1,
        "GECC-0003": 0,
    }


async def test_a_delta_delivers_the_new_files_of_its_records_only(
    isolated: Isolated, storage: ObjectStorage, receiver: Receiver, tmp_path: Path
) -> None:
    photo = b"\xff\xd8\xff\xe0" + os.urandom(5_000)
    sign = b"\x89PNG\r\n\x1a\n" + os.urandom(7_000)
    for content in (photo, sign):
        await store(storage, content)
    kept_photo = evidence_file("P01", "photo.jpg", "image/jpeg", photo)
    async with isolated.service_pool("export") as pool:
        first = await prepared(pool, ["GECC-0001"], [version_2("GECC-0001", [kept_photo])])
        full = await deliver(
            await build(first, pool, tmp_path / "exports"), pool, receiver, storage
        )
        assert full.state == "reconciled", full.last_error
        # After the export the center amends: the same photo and a new sign.
        files = [kept_photo, evidence_file("P02", "s.png", "image/png", sign)]
        amended = version_2("GECC-0001", files, version=2)
        async with pool.acquire() as conn:
            await handlers.keep_submissions(conn, [amended])
        await handlers.open_corrections(pool, quiet_seconds=0)
        async with pool.acquire() as conn:
            delta = await repository.claim_export(conn, 60.0)
        assert delta is not None and delta.kind == "delta"
        built = await build(delta, pool, tmp_path / "exports")
        assert (built.records, built.counts["evidence_files"]) == (1, 2)
        done = await deliver(built, pool, receiver, storage)
        assert done.state == "reconciled", done.last_error
        assert done.acknowledged["evidence_files"] == 2
    sign_sha = hashlib.sha256(sign).hexdigest()
    kept = receiver.directory / "evidence" / ROUND / sign_sha / "file"
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == sign_sha
    package = json.loads(
        (receiver.directory / "evidence" / ROUND / f"manifest-{delta.id}.json").read_text()
    )
    assert {f["sha256"] for f in package["files"]} == {kept_photo.sha256, sign_sha}
    # The photo the receiver verified with the full export was asked about, not sent again.
    counters = receiver.counters()
    assert (counters["parts_stored"], counters["evidence_verified"]) == (2, 2)


async def test_a_corrupted_object_is_retried_then_reported_as_mismatch(
    isolated: Isolated, storage: ObjectStorage, receiver: Receiver, tmp_path: Path
) -> None:
    sound = b"\x89PNG\r\n\x1a\n" + os.urandom(5_000)
    meant = b"%PDF-1.4\n" + os.urandom(40_000)
    await store(storage, sound)
    # Object storage holds other bytes (of the same length) under the file's SHA-256.
    await store(
        storage, b"%PDF-1.4\n" + os.urandom(40_000), under=hashlib.sha256(meant).hexdigest()
    )
    # ... or bytes of another length: not sent, the same outcome.
    cut = b"\xff\xd8\xff" + os.urandom(3_000)
    await store(storage, cut[:1_000], under=hashlib.sha256(cut).hexdigest())
    absent = b"RIFF\x00\x00\x00\x00WEBP" + os.urandom(100)
    files = [
        evidence_file("P01", "plan.png", "image/png", sound),
        evidence_file("P02", "order.pdf", "application/pdf", meant),
        evidence_file("P03", "gone.webp", "image/webp", absent),
        evidence_file("P04", "cut.jpg", "image/jpeg", cut),
    ]
    async with isolated.service_pool("export") as pool:
        export = await prepared(pool, ["GECC-0001"], [version_2("GECC-0001", files)])
        export = await build(export, pool, tmp_path / "exports")
        for attempt in range(1, MISMATCH_TRIES):
            export = await deliver(export, pool, receiver, storage)
            assert (export.state, export.attempts) == ("delivering", attempt)
            assert "409" in str(export.last_error)
        done = await deliver(export, pool, receiver, storage)
        async with pool.acquire() as conn:
            stored = await repository.get_export(conn, done.id)
    assert stored.state == "mismatch"
    assert stored.acknowledged["evidence_files"] == 1
    assert stored.counts["evidence_files"] == 4
    error = str(stored.last_error)
    assert f"evidence {hashlib.sha256(meant).hexdigest()}: SHA-256 refused" in error
    assert f"evidence {hashlib.sha256(absent).hexdigest()}: not in object storage" in error
    assert "object storage holds 1000 bytes, not 3003" in error
    counters = receiver.counters()
    assert (counters["evidence_verified"], counters["evidence_mismatched"]) == (1, MISMATCH_TRIES)


async def test_through_kafka_v1_and_v2_events_make_a_package_that_reconciles(
    isolated: Isolated,
    storage: ObjectStorage,
    object_storage_config: ObjectStorageConfig,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The export service's runtime on the real broker: its consumers keep a version-1 and a
    version-2 event, an operator's request exports the round, ExportStatus carries the
    package's counts, ours and the receiver's."""
    photo = b"\xff\xd8\xff\xe1" + os.urandom(70_000)
    await store(storage, photo)
    config = object_storage_config
    for name, value in {
        "ENDPOINT": config.endpoint,
        "BUCKET": config.bucket,
        "ACCESS_KEY": config.access_key,
        "SECRET_KEY": config.secret_key,
        "REGION": config.region,
    }.items():
        monkeypatch.setenv(f"GECC_S3_{name}", value)
    settings = ExportSettings(
        database_url=isolated.service_url("export"),
        kafka_bootstrap=isolated.kafka_bootstrap,
        topic_namespace=isolated.namespace,
        pmo_url=receiver.url,
        pmo_secret=SECRET,
        exports_dir=tmp_path / "exports",
        retry_first_seconds=0.1,
        retry_max_seconds=0.5,
        poll_seconds=0.1,
    )
    runtime = build_runtime(settings)
    await runtime.start()
    try:
        centers = [
            new_event(CenterRegistered(center_id=c, name_th=c, office_path="PMO/BMA"), "test")
            for c in ("GECC-0001", "GECC-0002")
        ]
        await send(
            isolated.kafka_bootstrap,
            isolated.topics(Topic.CENTER_REGISTERED),
            [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in centers],
        )
        photo_file = evidence_file("P01", "ภาพ.jpg", "image/jpeg", photo)
        received = [version_2("GECC-0001", [photo_file]), version_1("GECC-0002")]
        await send(
            isolated.kafka_bootstrap,
            isolated.topics(Topic.SUBMISSION_RECEIVED),
            [(e.data.center_id.encode(), e.model_dump_json().encode()) for e in received],
        )

        async def kept() -> int:
            async with isolated.service_pool("export", 1) as pool:
                count: int = await pool.fetchval("SELECT count(*) FROM submission_versions")
                return count

        await eventually(kept, lambda n: n == 2)
        request = ExportRequested(
            request_id=uuid4(), round_id=ROUND, requested_by="ops", requested_at=datetime.now(UTC)
        )
        await send(
            isolated.kafka_bootstrap,
            isolated.topics(Topic.EXPORT_REQUESTED),
            [(ROUND.encode(), new_event(request, "test").model_dump_json().encode())],
        )

        def final(messages: list[Any]) -> bool:
            return any(m["data"]["state"] in ("reconciled", "mismatch", "failed") for m in messages)

        async def statuses() -> list[Any]:
            records = await read_all(
                isolated.kafka_bootstrap, isolated.topics(Topic.EXPORT_STATUS), 1
            )
            return [json.loads(r.value) for r in records]

        messages = await eventually(statuses, final, within=60)
    finally:
        await runtime.stop()
    last = messages[-1]["data"]
    assert last["state"] == "reconciled", last
    assert last["counts"]["evidence_files"] == 1
    assert last["counts"]["evidence_bytes"] == len(photo)
    assert last["acknowledged"]["evidence_files"] == 1
    kept_file = receiver.directory / "evidence" / ROUND / photo_file.sha256 / "file"
    assert kept_file.read_bytes() == photo
