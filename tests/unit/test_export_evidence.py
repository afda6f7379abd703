"""Evidence in the export without I/O: how records list files, the round's package and its
manifest, which parts of a file remain to send, and a package in the export's reconciliation."""

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from services.export.adapters.files import EVIDENCE_CSV, write_dataset
from services.export.domain.dataset import LatestVersion, RegisteredCenter, build_records
from services.export.domain.evidence import (
    PART_SIZE,
    EvidenceEntry,
    Reference,
    entries_text,
    manifest_body,
    missing_parts,
    package,
    package_counts,
    part_count,
    part_range,
)
from services.export.domain.exports import Export

ROUND = "FY2570-H1"
NOW = datetime(2027, 5, 1, tzinfo=UTC)
PHOTO = "a" * 64
PDF = "b" * 64


def entry(item: str, name: str, sha: str, size: int = 12_345) -> EvidenceEntry:
    return EvidenceEntry(
        item_code=item, name=name, content_type="image/jpeg", size=size, sha256=sha
    )


def test_a_file_is_cut_in_parts_of_8_mib_the_last_shorter() -> None:
    assert [part_count(n) for n in (0, 1, PART_SIZE, PART_SIZE + 1, 3 * PART_SIZE)] == [
        1,
        1,
        1,
        2,
        3,
    ]
    assert part_range(1, 0) == (0, 0)
    assert part_range(2, PART_SIZE + 5) == (PART_SIZE, 5)
    with pytest.raises(ValueError, match="no part 3"):
        part_range(3, PART_SIZE + 5)


def test_only_the_parts_the_receiver_lacks_are_sent() -> None:
    size = 2 * PART_SIZE + 1
    assert missing_parts(size, []) == [1, 2, 3]
    assert missing_parts(size, [2]) == [1, 3]
    assert missing_parts(size, [1, 2, 3, 9]) == []


def test_the_package_holds_each_file_once_with_every_reference() -> None:
    files = package(
        [
            ("GECC-0002", [entry("P01", "sign.jpg", PHOTO)]),
            ("GECC-0001", [entry("P02", "minutes.pdf", PDF, 99), entry("P01", "ป้าย.jpg", PHOTO)]),
            ("GECC-0003", []),
        ]
    )
    assert [f.sha256 for f in files] == [PHOTO, PDF]
    assert files[0].references == (
        Reference("GECC-0001", "P01", "ป้าย.jpg"),
        Reference("GECC-0002", "P01", "sign.jpg"),
    )
    assert package_counts(files) == {"evidence_files": 2, "evidence_bytes": 12_345 + 99}
    manifest = json.loads(manifest_body("export-1", ROUND, files))
    assert manifest["evidence_files"] == 2
    assert manifest["part_size"] == PART_SIZE
    assert manifest["files"][0]["references"][0] == {
        "center_id": "GECC-0001",
        "item_code": "P01",
        "name": "ป้าย.jpg",
    }


def test_a_cell_lists_each_file_with_its_type_size_and_hash() -> None:
    text = entries_text([entry("P01", "a.jpg", PHOTO), entry("P02", "b.jpg", PDF, 7)])
    assert text == (
        f"P01: a.jpg (image/jpeg, 12,345 bytes, sha256 {PHOTO}); "
        f"P02: b.jpg (image/jpeg, 7 bytes, sha256 {PDF})"
    )
    assert entries_text([]) == ""


def version(center: str, evidence: list[dict[str, Any]]) -> LatestVersion:
    return LatestVersion(
        center_id=center,
        submission_id=UUID(int=1),
        version=1,
        versions=1,
        receipt_number=f"{ROUND}/{center}/v1",
        received_at=NOW,
        late=False,
        verdict=None,
        satisfaction_percent=None,
        checklist_percent=None,
        reasons=[],
        score_version=None,
        scored_at=None,
        evidence=evidence,
    )


def test_records_list_their_versions_files_and_evidence_csv_has_one_a_row(
    tmp_path: Path,
) -> None:
    stored = {**entry("P01", "=cmd|calc.jpg", PHOTO), "file_id": str(UUID(int=5))}
    centers = [RegisteredCenter(c, c, c, "PMO", "", None) for c in ("C1", "C2", "C3")]
    records = build_records(ROUND, centers, [version("C1", [stored]), version("C2", [])])
    assert [len(r.evidence) for r in records] == [1, 0, 0]
    assert records[0].to_json()["evidence"] == [entry("P01", "=cmd|calc.jpg", PHOTO)]

    manifest = write_dataset(tmp_path, ROUND, "export-1", records, NOW)
    content = (tmp_path / EVIDENCE_CSV).read_bytes()
    assert manifest.hashes()[EVIDENCE_CSV] == hashlib.sha256(content).hexdigest()
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    # A name a spreadsheet would run stays text.
    assert rows == [
        ["center_id", "item_code", "name", "content_type", "size", "sha256"],
        ["C1", "P01", "'=cmd|calc.jpg", "image/jpeg", "12345", PHOTO],
    ]


def delivering(counts: dict[str, int]) -> Export:
    pending = Export(
        id=UUID(int=7),
        round_id=ROUND,
        kind="full",
        trigger="operator",
        request_id=None,
        state="pending",
        records=0,
        batches=0,
        batches_acknowledged=0,
        attempts=0,
        last_error=None,
        counts={},
        acknowledged={},
        manifest_call=None,
        directory=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return pending.built(1, counts, 1, b"{}", "/x", b'{"files":[]}')


def test_the_export_reconciles_only_when_every_evidence_file_was_verified() -> None:
    ours = {"on_time": 1, "late": 0, "missing": 0, "total": 1}
    ours |= {"evidence_files": 2, "evidence_bytes": 30}
    theirs = {"batches": 1, "records": 1, "on_time": 1, "late": 0, "missing": 0}
    all_there = delivering(ours).delivered(theirs | {"evidence_files": 2, "evidence_bytes": 30})
    assert (all_there.state, all_there.last_error) == ("reconciled", None)
    one_short = delivering(ours).delivered(
        theirs | {"evidence_files": 1, "evidence_bytes": 10}, "evidence b…: not in storage"
    )
    assert (one_short.state, one_short.last_error) == ("mismatch", "evidence b…: not in storage")
