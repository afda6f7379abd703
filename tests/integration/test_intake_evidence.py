"""Evidence files through intake's API on the real database, broker and S3 server: upload
(streamed, typed by content, content-addressed, deduplicated), list, download, delete, the
limits, who reads what, object storage down, the orphan sweep, and submissions that
reference files."""

import asyncio
import dataclasses
import hashlib
import socket
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from typer.testing import CliRunner, Result

from gecc.cli import app
from services.intake.adapters.evidence import object_key
from services.intake.handlers import evidence
from shared.events import Envelope, SubmissionReceived
from shared.object_storage import ObjectStorage, ObjectStorageConfig
from shared.topics import Topic
from tests.integration.test_intake_api import ROUND, Intake, auth, set_dates, start_intake
from tests.support.infrastructure import Infrastructure
from tests.support.intake_process import UNLIMITED, intake_process
from tests.support.isolation import Isolated
from tests.support.kafka import read_all
from tests.support.polling import eventually
from tests.support.samples import submission_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100 + b"png-body"
PDF = b"%PDF-1.7\n" + b"minutes of the meeting " * 50
JPEG = b"\xff\xd8\xff\xe0" + b"j" * 2000
ITEM = "P01"


@dataclasses.dataclass(frozen=True)
class Running:
    intake: Intake
    storage: ObjectStorage


async def own_bucket(config: ObjectStorageConfig, isolated: Isolated) -> ObjectStorageConfig:
    """A bucket of this test's own: the sweep sees no other test's objects."""
    bucket = f"gecc-{isolated.namespace.strip('.')}"
    own = dataclasses.replace(config, bucket=bucket)
    async with ObjectStorage(own) as storage:
        await storage.ensure_bucket()
    return own


def storage_settings(config: ObjectStorageConfig) -> dict[str, Any]:
    return {
        "s3_endpoint": config.endpoint,
        "s3_bucket": config.bucket,
        "s3_access_key": config.access_key,
        "s3_secret_key": config.secret_key,
        "s3_region": config.region,
    }


async def running_intake(
    isolated: Isolated, config: ObjectStorageConfig, **settings: Any
) -> AsyncIterator[Running]:
    own = await own_bucket(config, isolated)
    async with ObjectStorage(own) as storage:
        async for intake in start_intake(isolated, **storage_settings(own), **settings):
            yield Running(intake, storage)
        async for key in storage.list_keys(""):
            await storage.delete(key)


@pytest.fixture
async def running(
    isolated: Isolated, object_storage_config: ObjectStorageConfig
) -> AsyncIterator[Running]:
    async for r in running_intake(isolated, object_storage_config, evidence_quota_mib=1):
        yield r


async def upload(
    intake: Intake, who: str, content: bytes, name: str = "photo.png", item: str = ITEM
) -> httpx.Response:
    return await intake.client.post(
        f"/v1/rounds/{ROUND}/items/{item}/evidence",
        params={"name": name},
        content=content,
        headers={**auth(intake.tokens[who]), "Content-Type": "application/octet-stream"},
    )


async def test_an_upload_is_stored_by_its_content_and_the_same_bytes_are_the_same_file(
    running: Running,
) -> None:
    intake = running.intake
    first = await upload(intake, "a", PNG, name="ภาพ/จุดบริการ\u202e.png")
    assert first.status_code == 201, first.text
    shown = first.json()
    sha = hashlib.sha256(PNG).hexdigest()
    assert {k: shown[k] for k in ("round_id", "center_id", "item_code", "content_type")} == {
        "round_id": ROUND,
        "center_id": "GECC-0001",
        "item_code": ITEM,
        "content_type": "image/png",
    }
    assert (shown["size"], shown["sha256"], shown["referenced"]) == (len(PNG), sha, False)
    assert shown["name"] == "จุดบริการ.png"  # the last path part, no direction override
    assert await running.storage.head(object_key(sha)) is not None
    assert [k async for k in running.storage.list_keys("evidence/tmp/")] == []
    again = await upload(intake, "a", PNG, name="other.png")
    assert again.status_code == 200 and again.json()["file_id"] == shown["file_id"]
    elsewhere = await upload(intake, "a", PNG, item="P02")
    assert elsewhere.status_code == 201 and elsewhere.json()["file_id"] != shown["file_id"]
    audit = await intake.fetch(
        "SELECT actor, action, target FROM audit_log WHERE action LIKE 'evidence.%'"
    )
    assert [(r["actor"], r["action"]) for r in audit] == [
        ("center:GECC-0001", "evidence.upload")
    ] * 2
    listed = await intake.client.get(
        f"/v1/rounds/{ROUND}/evidence", headers=auth(intake.tokens["a"])
    )
    assert [f["item_code"] for f in listed.json()["files"]] == [ITEM, "P02"]
    racing = await asyncio.gather(*(upload(intake, "a", JPEG, item="P03") for _ in range(4)))
    assert sorted(r.status_code for r in racing) == [200, 200, 200, 201]
    assert len({r.json()["file_id"] for r in racing}) == 1


async def test_a_download_is_an_attachment_with_nosniff_for_those_who_may_read_it(
    running: Running,
) -> None:
    intake = running.intake
    created = (await upload(intake, "a", PDF, name="รายงาน การประชุม.pdf")).json()
    file_id = created["file_id"]
    readers = {}
    for who in ("a", "b", "c", "bma", "operator"):
        response = await intake.client.get(
            f"/v1/evidence/{file_id}/content", headers=auth(intake.tokens[who])
        )
        readers[who] = response.status_code
        if response.status_code == 200:
            assert response.content == PDF
            assert response.headers["content-type"] == "application/pdf"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["content-length"] == str(len(PDF))
            assert response.headers["etag"] == f'"{created["sha256"]}"'
            disposition = response.headers["content-disposition"]
            assert disposition.startswith('attachment; filename="')
            assert disposition.endswith("filename*=UTF-8''" + quote("รายงาน การประชุม.pdf", safe=""))
    assert readers == {"a": 200, "b": 404, "c": 404, "bma": 200, "operator": 200}
    meta = await intake.client.get(f"/v1/evidence/{file_id}", headers=auth(intake.tokens["bma"]))
    assert meta.json() == created
    office_list = await intake.client.get(
        f"/v1/rounds/{ROUND}/evidence",
        params={"center_id": "GECC-0001"},
        headers=auth(intake.tokens["bma"]),
    )
    assert [f["file_id"] for f in office_list.json()["files"]] == [file_id]
    out_of_scope = await intake.client.get(
        f"/v1/rounds/{ROUND}/evidence",
        params={"center_id": "GECC-0003"},
        headers=auth(intake.tokens["bma"]),
    )
    assert out_of_scope.status_code == 404
    unnamed = await intake.client.get(
        f"/v1/rounds/{ROUND}/evidence", headers=auth(intake.tokens["bma"])
    )
    assert unnamed.status_code == 422 and unnamed.json()["errors"][0]["field"] == "center_id"
    for who in ("bma", "operator"):
        assert (await upload(intake, who, PNG)).status_code == 403


async def test_the_limits_answer_with_their_problem_and_store_nothing(running: Running) -> None:
    intake = running.intake
    fake = await upload(intake, "a", b"<html><script>alert(1)</script></html>", name="x.png")
    assert fake.status_code == 415 and fake.json()["code"] == "unsupported_type"
    assert "image/webp" in fake.json()["title"]
    empty = await upload(intake, "a", b"")
    assert empty.status_code == 415
    too_large = await intake.client.post(
        f"/v1/rounds/{ROUND}/items/{ITEM}/evidence",
        content=PNG,
        headers={**auth(intake.tokens["a"]), "Content-Length": str(10 * 1024 * 1024 + 1)},
    )
    assert too_large.status_code == 413 and too_large.json()["code"] == "file_too_large"
    unknown_item = await upload(intake, "a", PNG, item="NOPE")
    assert unknown_item.status_code == 422
    assert unknown_item.json()["errors"][0]["field"] == "item_code"
    unknown_round = await intake.client.post(
        f"/v1/rounds/FY2999-H1/items/{ITEM}/evidence", content=PNG, headers=auth(intake.tokens["a"])
    )
    assert unknown_round.status_code == 404
    # The quota is 1 MiB here: 600 KiB fits once.
    big = b"%PDF-" + b"x" * (600 * 1024)
    assert (await upload(intake, "a", big, name="a.pdf")).status_code == 201
    over = await upload(intake, "a", big[:-1], name="b.pdf")
    assert over.status_code == 413 and over.json()["code"] == "quota_exceeded"
    again = await upload(intake, "a", big, name="a.pdf")  # a retry: the same bytes, no more room
    assert again.status_code == 200 and again.json()["name"] == "a.pdf"
    assert (await upload(intake, "b", big[:-1])).status_code == 201  # another center's own
    for n in range(19):
        assert (await upload(intake, "a", PNG + bytes([n]), item="P03")).status_code == 201
    assert (await upload(intake, "a", PNG + b"x", item="P03")).status_code == 201
    full = await upload(intake, "a", PNG + b"y", item="P03")
    assert full.status_code == 409 and full.json()["code"] == "too_many_files"
    rows = await intake.fetch("SELECT count(*) AS n FROM evidence_files")
    assert rows[0]["n"] == 22
    assert [k async for k in running.storage.list_keys("evidence/tmp/")] == []
    await set_dates(intake.db, ROUND, -10, -5, -1)
    closed = await upload(intake, "a", JPEG)
    assert closed.status_code == 409 and closed.json()["code"] == "round_closed"


async def test_a_file_is_deleted_while_no_submitted_version_references_it(running: Running) -> None:
    intake = running.intake
    kept = (await upload(intake, "a", PNG)).json()
    same_bytes_elsewhere = (await upload(intake, "b", PNG)).json()
    dropped = (await upload(intake, "a", JPEG, item="P02")).json()
    by_b = await intake.client.delete(
        f"/v1/evidence/{kept['file_id']}", headers=auth(intake.tokens["b"])
    )
    assert by_b.status_code == 404
    body = submission_body(ROUND)
    body["checklist"]["items"][0]["files"] = [kept["file_id"]]
    assert body["checklist"]["items"][0]["code"] == ITEM
    assert (await intake.submit("a", body)).status_code == 201
    refused = await intake.client.delete(
        f"/v1/evidence/{kept['file_id']}", headers=auth(intake.tokens["a"])
    )
    assert refused.status_code == 409 and refused.json()["code"] == "file_referenced"
    shown = await intake.client.get(
        f"/v1/evidence/{kept['file_id']}", headers=auth(intake.tokens["a"])
    )
    assert shown.json()["referenced"] is True
    gone = await intake.client.delete(
        f"/v1/evidence/{dropped['file_id']}", headers=auth(intake.tokens["a"])
    )
    assert gone.status_code == 204
    assert await running.storage.head(object_key(dropped["sha256"])) is None
    # b's copy of the same bytes goes; the object stays for a's referenced file.
    b_gone = await intake.client.delete(
        f"/v1/evidence/{same_bytes_elsewhere['file_id']}", headers=auth(intake.tokens["b"])
    )
    assert b_gone.status_code == 204
    assert await running.storage.head(object_key(kept["sha256"])) is not None
    actions = await intake.fetch("SELECT action FROM audit_log WHERE action = 'evidence.delete'")
    assert len(actions) == 2


async def test_a_submission_references_its_centers_files_and_the_event_carries_them(
    running: Running,
) -> None:
    intake = running.intake
    photo = (await upload(intake, "a", PNG, name="photo.png")).json()
    minutes = (await upload(intake, "a", PDF, name="minutes.pdf", item="P02")).json()
    others = (await upload(intake, "b", JPEG)).json()
    body = submission_body(ROUND)
    items = body["checklist"]["items"]
    assert [i["code"] for i in items[:2]] == [ITEM, "P02"]
    wrong = submission_body(ROUND)
    wrong["checklist"]["items"][0]["files"] = [photo["file_id"], others["file_id"]]
    wrong["checklist"]["items"][1]["files"] = [photo["file_id"]]
    refused = await intake.submit("a", wrong)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "checklist.items[0].files[1]",
        "checklist.items[1].files[0]",
    ]
    items[0]["files"] = [photo["file_id"]]
    items[1]["files"] = [minutes["file_id"]]
    accepted = await intake.submit("a", body)
    assert accepted.status_code == 201, accepted.text
    plain = await intake.submit("b")  # no files: written as before, evidence empty
    assert plain.status_code == 201
    references = await intake.fetch(
        "SELECT file_id, item_code FROM version_evidence ORDER BY item_code"
    )
    assert [(str(r["file_id"]), r["item_code"]) for r in references] == [
        (photo["file_id"], ITEM),
        (minutes["file_id"], "P02"),
    ]
    events = await read_all(
        intake.isolated.kafka_bootstrap, intake.isolated.topics(Topic.SUBMISSION_RECEIVED), 2
    )
    received = {
        e.data.center_id: e
        for e in (Envelope[SubmissionReceived].model_validate_json(m.value) for m in events)
    }
    assert received["GECC-0001"].schema_version == 3
    assert [
        (f.item_code, f.name, f.content_type, f.size, f.sha256)
        for f in received["GECC-0001"].data.evidence
    ] == [
        (ITEM, "photo.png", "image/png", len(PNG), photo["sha256"]),
        ("P02", "minutes.pdf", "application/pdf", len(PDF), minutes["sha256"]),
    ]
    assert received["GECC-0002"].data.evidence == []
    amended = await intake.submit("a", body)  # an amendment lists the same files again
    assert amended.status_code == 201 and amended.json()["version"] == 2
    versions = await intake.fetch("SELECT version FROM version_evidence ORDER BY version")
    assert [r["version"] for r in versions] == [1, 1, 2, 2]


async def test_a_version_whose_files_exceed_100_mib_is_refused(running: Running) -> None:
    intake = running.intake
    photo = (await upload(intake, "a", PNG)).json()
    await intake.fetch("UPDATE evidence_files SET size = 101 * 1024 * 1024")
    body = submission_body(ROUND)
    body["checklist"]["items"][0]["files"] = [photo["file_id"]]
    refused = await intake.submit("a", body)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "checklist.items[0].files"


async def test_object_storage_down_is_a_503_with_retry_after_and_nothing_written(
    isolated: Isolated, object_storage_config: ObjectStorageConfig
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    down = dataclasses.replace(object_storage_config, endpoint=f"http://127.0.0.1:{port}")
    async for intake in start_intake(isolated, **storage_settings(down)):
        response = await upload(intake, "a", PNG)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "30"
        assert response.json()["code"] == "storage_unavailable"
        assert await intake.fetch("SELECT 1 FROM evidence_files") == []
        assert await intake.fetch("SELECT 1 FROM audit_log WHERE action LIKE 'evidence.%'") == []


async def test_the_sweep_removes_bytes_no_row_names_once_old_enough(running: Running) -> None:
    intake, storage = running.intake, running.storage
    kept = (await upload(intake, "a", PNG)).json()

    async def chunks(data: bytes) -> AsyncIterator[bytes]:
        yield data

    orphan = hashlib.sha256(JPEG).hexdigest()  # bytes stored, metadata never committed
    await storage.put(object_key(orphan), chunks(JPEG))
    await storage.put("evidence/tmp/interrupted", chunks(JPEG))
    conn = await asyncpg.connect(intake.db)
    try:
        young = await evidence.sweep(conn, storage, timedelta(hours=1), datetime.now(UTC))
        assert young == []
        later = datetime.now(UTC) + timedelta(hours=2)
        removed = await evidence.sweep(conn, storage, timedelta(hours=1), later)
    finally:
        await conn.close()
    assert sorted(removed) == sorted([object_key(orphan), "evidence/tmp/interrupted"])
    assert await storage.head(object_key(kept["sha256"])) is not None
    assert await storage.head(object_key(orphan)) is None


async def sweep_command(database: str, config: ObjectStorageConfig, *args: str) -> Result:
    env = {
        "GECC_S3_ENDPOINT": config.endpoint,
        "GECC_S3_BUCKET": config.bucket,
        "GECC_S3_ACCESS_KEY": config.access_key,
        "GECC_S3_SECRET_KEY": config.secret_key,
        "GECC_S3_REGION": config.region,
    }
    command = ["evidence", "sweep", "--database-url", database, *args]
    # In a thread: the command runs its own event loop with asyncio.run.
    return await asyncio.to_thread(lambda: CliRunner().invoke(app, command, env=env))


async def test_a_large_file_goes_through_intakes_http_server_and_comes_back_the_same(
    infrastructure: Infrastructure, object_storage_config: ObjectStorageConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(object_storage_config, bucket=f"gecc-big-{uuid.uuid4().hex[:12]}")
    content = b"%PDF-1.7\n" + bytes(range(256)) * (9 * 1024 * 4)  # 9 MiB and a bit
    async with ObjectStorage(config) as storage:
        await storage.ensure_bucket()
        env = {
            **UNLIMITED,
            **{f"GECC_{k.upper()}": str(v) for k, v in storage_settings(config).items()},
        }
        async with intake_process(infrastructure, tmp_path, env) as running:
            headers = {"Authorization": f"Bearer {running.tokens['a']}"}
            async with httpx.AsyncClient(base_url=running.url, headers=headers) as client:

                async def body() -> AsyncIterator[bytes]:
                    for start in range(0, len(content), 256 * 1024):
                        yield content[start : start + 256 * 1024]

                created = await client.post(
                    f"/v1/rounds/{ROUND}/items/{ITEM}/evidence",
                    params={"name": "big.pdf"},
                    content=body(),
                    headers={"Content-Length": str(len(content))},
                )
                assert created.status_code == 201, created.text
                assert created.json()["sha256"] == hashlib.sha256(content).hexdigest()
                url = f"/v1/evidence/{created.json()['file_id']}/content"
                async with client.stream("GET", url) as download:
                    assert download.headers["content-length"] == str(len(content))
                    assert b"".join([c async for c in download.aiter_bytes()]) == content

                async def eleven_mib() -> AsyncIterator[bytes]:
                    for _ in range(44):
                        yield b"%PDF-" + b"x" * (256 * 1024 - 5)

                too_big = await client.post(
                    f"/v1/rounds/{ROUND}/items/{ITEM}/evidence",
                    content=eleven_mib(),
                    headers={"Content-Length": str(11 * 1024 * 1024)},
                )
                assert too_big.status_code == 413  # answered before the body was read
                assert too_big.json()["code"] == "file_too_large"
        async for key in storage.list_keys(""):
            await storage.delete(key)


async def test_a_crash_between_the_stored_bytes_and_the_commit_leaves_what_the_sweep_removes(
    infrastructure: Infrastructure, object_storage_config: ObjectStorageConfig, tmp_path: Path
) -> None:
    config = dataclasses.replace(
        object_storage_config, bucket=f"gecc-crash-{uuid.uuid4().hex[:12]}"
    )
    async with ObjectStorage(config) as storage:
        await storage.ensure_bucket()
        env = {
            **UNLIMITED,
            evidence.CRASH_AFTER_STORE: "1",
            "GECC_S3_ENDPOINT": config.endpoint,
            "GECC_S3_BUCKET": config.bucket,
            "GECC_S3_ACCESS_KEY": config.access_key,
            "GECC_S3_SECRET_KEY": config.secret_key,
        }
        async with intake_process(infrastructure, tmp_path, env) as running:
            async with httpx.AsyncClient(base_url=running.url) as client:
                with pytest.raises(httpx.TransportError):  # the process ended mid-request
                    await client.post(
                        f"/v1/rounds/{ROUND}/items/{ITEM}/evidence",
                        content=PDF,
                        headers={"Authorization": f"Bearer {running.tokens['a']}"},
                    )
            conn = await asyncpg.connect(running.database)
            try:
                assert await conn.fetch("SELECT 1 FROM evidence_files") == []
                assert (
                    await conn.fetch("SELECT 1 FROM audit_log WHERE action = 'evidence.upload'")
                    == []
                )
            finally:
                await conn.close()
            sha = hashlib.sha256(PDF).hexdigest()
            left = [key async for key in storage.list_keys("evidence/")]
            assert object_key(sha) in left and len(left) == 2  # and the temporary object
            kept = await sweep_command(running.database, config)  # younger than an hour
            assert kept.exit_code == 0, kept.output
            assert "0 orphaned object(s) removed" in kept.output
            swept = await sweep_command(running.database, config, "--older-than-minutes", "0")
            assert swept.exit_code == 0, swept.output
            assert f"removed {object_key(sha)}" in swept.output
            assert [key async for key in storage.list_keys("evidence/")] == []


async def test_intake_sweeps_orphans_by_itself_every_interval(
    isolated: Isolated, object_storage_config: ObjectStorageConfig
) -> None:
    settings = {"evidence_sweep_interval_seconds": 0.2, "evidence_orphan_age_seconds": 2}
    async for running in running_intake(isolated, object_storage_config, **settings):
        await orphan_swept_by_intake(running)


async def orphan_swept_by_intake(running: Running) -> None:
    kept = (await upload(running.intake, "a", PNG)).json()

    async def chunks() -> AsyncIterator[bytes]:
        yield JPEG

    await running.storage.put("evidence/tmp/left-by-a-crash", chunks())

    async def left() -> list[str]:
        return [key async for key in running.storage.list_keys("evidence/")]

    await eventually(left, lambda keys: keys == [object_key(kept["sha256"])], within=10)
