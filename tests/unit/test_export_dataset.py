"""The round dataset: one record per center (missing ones too), counts, deltas and batches."""

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID, uuid5

import pytest

from services.export.domain.batches import (
    BatchCall,
    batch_body,
    calls,
    manifest_body,
    split,
)
from services.export.domain.dataset import (
    FIELDS,
    ExportRecord,
    LatestVersion,
    RegisteredCenter,
    build_records,
    counts,
    delta,
    fingerprint,
    verdict_counts,
)

ROUND = "FY2570-H1"
RECEIVED = datetime(2027, 4, 20, 3, 15, tzinfo=UTC)
REASON = {
    "code": "mandatory_item_not_met",
    "detail": {"item": "P01"},
    "text_th": "ไม่ผ่านเกณฑ์บังคับข้อ P01: ป้ายบอกทาง",
    "text_en": "Mandatory item P01 not met: signage",
}


def center(number: int) -> RegisteredCenter:
    return RegisteredCenter(
        id=f"GECC-{number:04d}",
        name_th=f"ศูนย์ราชการสะดวก เขต {number}",
        name_en=f"GECC District {number}",
        office_path="PMO/BMA",
        province="TH-10",
        certified_until=date(2028, 9, 30),
    )


def latest(center_id: str, *, version: int = 1, late: bool = False) -> LatestVersion:
    return LatestVersion(
        center_id=center_id,
        submission_id=uuid5(UUID(int=0), center_id),
        version=version,
        versions=version,
        receipt_number=f"{ROUND}/{center_id}/v{version}",
        received_at=RECEIVED,
        late=late,
        verdict=None,
        satisfaction_percent=None,
        checklist_percent=None,
        reasons=[],
        score_version=None,
        scored_at=None,
    )


def scored(
    center_id: str, *, version: int = 1, verdict: str = "not_maintained", reasons: bool = True
) -> LatestVersion:
    return replace(
        latest(center_id, version=version),
        verdict=verdict,
        satisfaction_percent=91.6,
        checklist_percent=75.0,
        reasons=[REASON] if reasons else [],
        score_version=1,
        scored_at=RECEIVED + timedelta(seconds=3),
    )


CENTERS = [center(3), center(1), center(2), center(4)]
VERSIONS = [
    scored("GECC-0001"),
    latest("GECC-0002", version=3, late=True),
    scored("GECC-0004", verdict="maintained", reasons=False),
]


@pytest.fixture
def records() -> list[ExportRecord]:
    return build_records(ROUND, CENTERS, VERSIONS)


def by_id(records: list[ExportRecord]) -> dict[str, ExportRecord]:
    return {r.center_id: r for r in records}


def test_every_registered_center_has_one_record_sorted_by_id(records: list[ExportRecord]) -> None:
    assert [r.center_id for r in records] == ["GECC-0001", "GECC-0002", "GECC-0003", "GECC-0004"]
    assert {r.round_id for r in records} == {ROUND}


def test_a_center_that_never_submitted_is_missing_with_its_registry_data(
    records: list[ExportRecord],
) -> None:
    missing = by_id(records)["GECC-0003"]
    assert missing.status == "missing"
    assert (missing.center_name_th, missing.office_path) == ("ศูนย์ราชการสะดวก เขต 3", "PMO/BMA")
    assert missing.certified_until == date(2028, 9, 30)
    assert (missing.submission_id, missing.version, missing.receipt_number) == (None, None, None)
    assert (missing.amendments, missing.scored, missing.verdict, missing.reasons) == (
        0,
        False,
        None,
        (),
    )


def test_a_submitted_record_carries_its_latest_version_score_and_lateness(
    records: list[ExportRecord],
) -> None:
    on_time, late = by_id(records)["GECC-0001"], by_id(records)["GECC-0002"]
    assert (on_time.status, on_time.amendments, on_time.scored) == ("on_time", 0, True)
    assert (on_time.verdict, on_time.satisfaction_percent, on_time.checklist_percent) == (
        "not_maintained",
        91.6,
        75.0,
    )
    assert on_time.reasons == (
        {"code": REASON["code"], "text_th": REASON["text_th"], "text_en": REASON["text_en"]},
    )
    assert (late.status, late.version, late.amendments, late.scored) == ("late", 3, 2, False)


def test_amendments_follow_the_version_number_when_earlier_versions_are_not_known() -> None:
    only_v3 = replace(latest("GECC-0001", version=3), versions=1)
    (record,) = build_records(ROUND, [center(1)], [only_v3])
    assert record.amendments == 2


def test_a_center_gone_from_the_registry_after_reporting_is_still_exported() -> None:
    records = build_records(
        ROUND, [center(1)], [latest("GECC-0001"), latest("GECC-9999", late=True)]
    )
    gone = by_id(records)["GECC-9999"]
    assert [r.center_id for r in records] == ["GECC-0001", "GECC-9999"]
    assert (gone.status, gone.center_name_th, gone.office_path, gone.certified_until) == (
        "late",
        "",
        "",
        None,
    )


def test_to_json_keeps_field_order_and_gives_json_ready_values(records: list[ExportRecord]) -> None:
    value = by_id(records)["GECC-0001"].to_json()
    assert tuple(value) == FIELDS
    assert FIELDS[:8] == (
        "round_id",
        "center_id",
        "center_name_th",
        "center_name_en",
        "office_path",
        "province",
        "certified_until",
        "status",
    )
    assert value["certified_until"] == "2028-09-30"
    assert value["submission_id"] == str(uuid5(UUID(int=0), "GECC-0001"))
    assert value["received_at"] == "2027-04-20T03:15:00.000000Z"
    assert value["scored_at"] == "2027-04-20T03:15:03.000000Z"
    assert json.loads(json.dumps(value)) == value
    assert by_id(records)["GECC-0003"].to_json()["received_at"] is None


def test_times_in_another_zone_are_written_in_utc_and_naive_times_are_refused() -> None:
    bangkok = timezone(timedelta(hours=7))
    v = replace(latest("GECC-0001"), received_at=datetime(2027, 4, 20, 10, 15, tzinfo=bangkok))
    (record,) = build_records(ROUND, [center(1)], [v])
    assert record.to_json()["received_at"] == "2027-04-20T03:15:00.000000Z"
    naive = replace(v, received_at=datetime(2027, 4, 20, 3, 15))
    with pytest.raises(ValueError, match="naive"):
        build_records(ROUND, [center(1)], [naive])[0].to_json()


def test_counts_by_status_always_name_every_status(records: list[ExportRecord]) -> None:
    assert counts(records) == {"on_time": 2, "late": 1, "missing": 1, "total": 4}
    assert counts([]) == {"on_time": 0, "late": 0, "missing": 0, "total": 0}


def test_counts_by_verdict_name_every_verdict_and_those_without_one(
    records: list[ExportRecord],
) -> None:
    assert verdict_counts(records) == {
        "maintained": 1,
        "at_risk": 0,
        "not_maintained": 1,
        "no_verdict": 2,
    }


def test_a_fingerprint_changes_exactly_when_the_content_does(records: list[ExportRecord]) -> None:
    record = records[0]
    assert fingerprint(record) == fingerprint(replace(record))
    assert len(fingerprint(record)) == 64
    assert fingerprint(record) != fingerprint(replace(record, checklist_percent=80.0))


def test_delta_sends_changed_and_new_records_only(records: list[ExportRecord]) -> None:
    previous = {r.center_id: fingerprint(r) for r in records}
    assert delta(previous, records) == []
    amended = build_records(
        ROUND, CENTERS, [*VERSIONS, latest("GECC-0003", late=True), scored("GECC-0001", version=2)]
    )
    changed = delta(previous, amended)
    assert [r.center_id for r in changed] == ["GECC-0001", "GECC-0003"]
    del previous["GECC-0004"]
    assert [r.center_id for r in delta(previous, records)] == ["GECC-0004"]


def many(n: int) -> list[ExportRecord]:
    return build_records(ROUND, [center(i) for i in range(1, n + 1)], [])


def test_1343_records_make_batches_of_500_500_343_under_stable_keys() -> None:
    records = many(1343)
    batches = split("export-1", records)
    assert [(b.number, len(b.records)) for b in batches] == [(1, 500), (2, 500), (3, 343)]
    assert [b.idempotency_key for b in batches] == ["export-1:1", "export-1:2", "export-1:3"]
    assert [r for b in batches for r in b.records] == records
    assert split("export-1", records) == batches
    assert split("export-1", []) == []
    with pytest.raises(ValueError):
        split("export-1", records, size=0)


def test_batch_bodies_are_canonical_and_byte_identical_across_calls(
    records: list[ExportRecord],
) -> None:
    (batch,) = split("export-1", records)
    body = batch_body("export-1", ROUND, "full", batch)
    assert body == batch_body("export-1", ROUND, "full", split("export-1", records)[0])
    assert "ศูนย์ราชการสะดวก".encode() in body
    parsed = json.loads(body)
    assert body == json.dumps(parsed, ensure_ascii=False, separators=(",", ":")).encode()
    assert list(parsed) == ["export_id", "round_id", "kind", "batch", "records"]
    assert (parsed["kind"], parsed["batch"]) == ("full", 1)
    assert parsed["records"] == [r.to_json() for r in records]


def test_each_call_is_its_batch_s_number_key_size_and_body() -> None:
    batches = split("export-1", many(1343))
    assert calls("export-1", ROUND, "full", batches) == [
        BatchCall(
            b.number, b.idempotency_key, len(b.records), batch_body("export-1", ROUND, "full", b)
        )
        for b in batches
    ]


def test_the_manifest_body_states_batches_records_counts_and_file_hashes(
    records: list[ExportRecord],
) -> None:
    batches = split("export-1", many(1343))
    files = {"records.csv": "b" * 64, "records.jsonl": "a" * 64}
    body = manifest_body("export-1", ROUND, "delta", batches, counts(records), files)
    assert body == manifest_body("export-1", ROUND, "delta", batches, counts(records), files)
    assert json.loads(body) == {
        "export_id": "export-1",
        "round_id": ROUND,
        "kind": "delta",
        "batches": 3,
        "records": 1343,
        "counts": {"late": 1, "missing": 1, "on_time": 2, "total": 4},
        "files": files,
    }
    assert list(json.loads(body)) == [
        "export_id",
        "round_id",
        "kind",
        "batches",
        "records",
        "counts",
        "files",
    ]
