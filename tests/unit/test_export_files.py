"""The round's files read back: JSON Lines, CSV with BOM, XLSX, and a manifest that matches."""

import csv
import hashlib
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest
from openpyxl import load_workbook

from services.export.adapters.files import (
    CSV,
    EVIDENCE_CSV,
    JSONL,
    MANIFEST,
    XLSX,
    Manifest,
    write_dataset,
)
from services.export.domain.dataset import (
    FIELDS,
    ExportRecord,
    LatestVersion,
    RegisteredCenter,
    build_records,
)

ROUND = "FY2570-H1"
CREATED = datetime(2027, 5, 15, 0, 0, tzinfo=UTC)
REASONS = [
    {"code": "P01", "text_th": "ไม่ผ่านเกณฑ์บังคับข้อ P01: ป้ายบอกทาง", "text_en": "P01 not met"},
    {"code": "S-LOW", "text_th": "ความพึงพอใจร้อยละ 80 ต่ำกว่าเกณฑ์", "text_en": "Satisfaction low"},
]
CENTERS = [
    RegisteredCenter("GECC-0001", "ศูนย์บริการสาธารณสุข ๑", "Health 1", "PMO/BMA", "TH-10", None),
    RegisteredCenter("GECC-0002", "=สำนักงานเขตพระนคร", "Phra Nakhon", "PMO/BMA", "TH-10", None),
    RegisteredCenter(
        "GECC-0003", "ที่ว่าการอำเภอ\x07เมือง", "Mueang", "PMO/MOI", "TH-50", date(2028, 9, 30)
    ),
]
VERSION = LatestVersion(
    center_id="GECC-0001",
    submission_id=UUID("0b7c7a52-1f44-4a53-9d1c-6c9f1e0a2b10"),
    version=2,
    versions=2,
    receipt_number=f"{ROUND}/GECC-0001/v2",
    received_at=datetime(2027, 4, 20, 3, 15, tzinfo=UTC),
    late=True,
    verdict="not_maintained",
    satisfaction_percent=80.0,
    checklist_percent=91.5,
    reasons=REASONS,
    score_version=1,
    scored_at=datetime(2027, 4, 20, 3, 16, tzinfo=UTC),
)


@pytest.fixture
def records() -> list[ExportRecord]:
    return build_records(ROUND, CENTERS, [VERSION])


@pytest.fixture
def written(tmp_path: Path, records: list[ExportRecord]) -> tuple[Path, Manifest]:
    directory = tmp_path / "exports" / ROUND
    return directory, write_dataset(directory, ROUND, "export-1", records, CREATED)


def test_json_lines_parse_to_the_records(
    written: tuple[Path, Manifest], records: list[ExportRecord]
) -> None:
    directory, _ = written
    lines = (directory / JSONL).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [r.to_json() for r in records]


def test_the_csv_starts_with_a_bom_and_reads_back_with_thai_intact(
    written: tuple[Path, Manifest],
) -> None:
    directory, _ = written
    assert (directory / CSV).read_bytes()[:3] == b"\xef\xbb\xbf"
    with (directory / CSV).open(encoding="utf-8-sig", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    assert tuple(header) == FIELDS
    row = dict(zip(header, rows[0], strict=True))
    assert row["center_name_th"] == "ศูนย์บริการสาธารณสุข ๑"
    assert row["reasons"] == (
        "P01: ไม่ผ่านเกณฑ์บังคับข้อ P01: ป้ายบอกทาง | S-LOW: ความพึงพอใจร้อยละ 80 ต่ำกว่าเกณฑ์"
    )
    assert (row["status"], row["amendments"], row["scored"]) == ("late", "1", "true")
    assert (row["received_at"], row["satisfaction_percent"]) == (
        "2027-04-20T03:15:00.000000Z",
        "80.0",
    )
    missing = dict(zip(header, rows[2], strict=True))
    assert (missing["status"], missing["certified_until"], missing["verdict"]) == (
        "missing",
        "2028-09-30",
        "",
    )


def test_the_xlsx_has_a_header_and_the_values_with_thai_intact(
    written: tuple[Path, Manifest],
) -> None:
    directory, _ = written
    sheet = load_workbook(directory / XLSX).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert tuple(header) == FIELDS
    first = dict(zip(header, rows[0], strict=True))
    assert (first["center_name_th"], first["verdict"], first["scored"]) == (
        "ศูนย์บริการสาธารณสุข ๑",
        "not_maintained",
        True,
    )
    assert (first["version"], first["checklist_percent"]) == (2, 91.5)
    assert str(first["reasons"]).startswith("P01: ไม่ผ่านเกณฑ์บังคับข้อ P01")
    assert dict(zip(header, rows[2], strict=True))["verdict"] is None


def test_xlsx_text_is_never_a_formula_and_loses_only_characters_excel_refuses(
    written: tuple[Path, Manifest],
) -> None:
    directory, _ = written
    sheet = load_workbook(directory / XLSX).worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert (sheet["C3"].value, sheet["C3"].data_type) == ("=สำนักงานเขตพระนคร", "s")
    assert sheet["C4"].value == "ที่ว่าการอำเภอเมือง"


def test_the_manifest_hashes_equal_the_written_files(written: tuple[Path, Manifest]) -> None:
    directory, manifest = written
    on_disk = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    assert on_disk == manifest.to_json()
    assert [f["name"] for f in on_disk["files"]] == [JSONL, CSV, XLSX, EVIDENCE_CSV]
    for described in on_disk["files"]:
        content = (directory / described["name"]).read_bytes()
        assert described["sha256"] == hashlib.sha256(content).hexdigest()
        assert described["bytes"] == len(content)
    assert manifest.hashes() == {f["name"]: f["sha256"] for f in on_disk["files"]}


def test_the_manifest_counts_records_by_status_and_verdict(written: tuple[Path, Manifest]) -> None:
    directory, _ = written
    on_disk = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    assert (on_disk["export_id"], on_disk["round_id"]) == ("export-1", ROUND)
    assert on_disk["created_at"] == "2027-05-15T00:00:00.000000Z"
    assert on_disk["total"] == 3
    assert on_disk["counts"] == {"on_time": 0, "late": 1, "missing": 2}
    assert on_disk["verdicts"]["not_maintained"] == 1
    assert on_disk["verdicts"]["no_verdict"] == 2


def test_rewriting_replaces_the_files_and_leaves_no_partial_ones(
    written: tuple[Path, Manifest], records: list[ExportRecord]
) -> None:
    directory, _ = written
    manifest = write_dataset(directory, ROUND, "export-2", records[:1], CREATED)
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [JSONL, CSV, XLSX, EVIDENCE_CSV, MANIFEST]
    )
    assert len((directory / JSONL).read_text(encoding="utf-8").splitlines()) == 1
    assert (manifest.export_id, manifest.total) == ("export-2", 1)


def test_a_failed_write_keeps_the_previous_files(
    written: tuple[Path, Manifest], records: list[ExportRecord]
) -> None:
    directory, _ = written
    before = {p.name: p.read_bytes() for p in directory.iterdir()}

    class Broken(list[ExportRecord]):
        def __iter__(self) -> Iterator[ExportRecord]:
            yield records[0]
            raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        write_dataset(directory, ROUND, "export-3", Broken(records), CREATED)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_the_files_get_ordinary_permissions_like_any_file_created_here(
    written: tuple[Path, Manifest], tmp_path: Path
) -> None:
    directory, _ = written
    (tmp_path / "plain").write_text("")
    ordinary = (tmp_path / "plain").stat().st_mode & 0o777
    assert {(directory / n).stat().st_mode & 0o777 for n in (JSONL, CSV, XLSX, MANIFEST)} == {
        ordinary
    }


FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=ศูนย์"]
HARMLESS = "ศูนย์บริการสาธารณสุข ๑"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """Centers named like formulas (the first one with a scored version), and a harmless one."""
    names = [*FORMULAS, HARMLESS]
    centers = [
        RegisteredCenter(f"GECC-{n:04d}", name, name, "PMO/BMA", "TH-10", None)
        for n, name in enumerate(names, start=1)
    ]
    directory = tmp_path / "hostile"
    write_dataset(directory, ROUND, "export-h", build_records(ROUND, centers, [VERSION]), CREATED)
    return directory


def test_csv_names_a_spreadsheet_would_run_are_written_behind_a_quote(hostile: Path) -> None:
    assert (hostile / CSV).read_bytes()[:3] == b"\xef\xbb\xbf"
    with (hostile / CSV).open(encoding="utf-8-sig", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    records = [dict(zip(header, row, strict=True)) for row in rows]
    names = [(r["center_name_th"], r["center_name_en"]) for r in records]
    assert names == [("'" + n, "'" + n) for n in FORMULAS] + [(HARMLESS, HARMLESS)]
    assert (records[0]["version"], records[0]["satisfaction_percent"]) == ("2", "80.0")


def test_xlsx_names_a_spreadsheet_would_run_are_text_not_formulas(hostile: Path) -> None:
    sheet = load_workbook(hostile / XLSX).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    name_column = header.index("center_name_th") + 1
    cells = [sheet.cell(row, name_column) for row in range(2, len(FORMULAS) + 3)]
    # XML reads a lone carriage return as a line feed: "\rx" comes back as "\nx".
    assert [c.value for c in cells] == [n.replace("\r", "\n") for n in (*FORMULAS, HARMLESS)]
    assert {c.data_type for c in cells} == {"s"}
    assert [c.quotePrefix for c in cells] == [True] * len(FORMULAS) + [False]
    version = sheet.cell(2, header.index("version") + 1)
    assert (version.value, version.data_type) == (2, "n")


def test_every_file_says_where_each_reports_satisfaction_figures_come_from(
    tmp_path: Path,
) -> None:
    citizen = replace(VERSION, satisfaction_source="citizen_survey", survey_responses=412)
    own = replace(VERSION, center_id="GECC-0002", submission_id=UUID(int=2))
    records = build_records(ROUND, CENTERS, [citizen, own])
    write_dataset(tmp_path, ROUND, "export-1", records, CREATED)
    expected = [("citizen_survey", 412), ("center_survey", None), (None, None)]
    assert FIELDS.index("satisfaction_source") == FIELDS.index("satisfaction_percent") + 1
    assert FIELDS.index("survey_responses") == FIELDS.index("satisfaction_source") + 1
    lines = [json.loads(line) for line in (tmp_path / JSONL).read_text("utf-8").splitlines()]
    assert [(r["satisfaction_source"], r["survey_responses"]) for r in lines] == expected
    with (tmp_path / CSV).open(encoding="utf-8-sig", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    table = [dict(zip(header, row, strict=True)) for row in rows]
    assert [(r["satisfaction_source"], r["survey_responses"]) for r in table] == [
        ("citizen_survey", "412"),
        ("center_survey", ""),
        ("", ""),
    ]
    sheet = load_workbook(tmp_path / XLSX).worksheets[0]
    header, *cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    sheet_rows = [dict(zip(header, row, strict=True)) for row in cells]
    assert [(r["satisfaction_source"], r["survey_responses"]) for r in sheet_rows] == expected
