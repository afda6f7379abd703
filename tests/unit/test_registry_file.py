"""The registry CSV: round trip, encodings, and every error reported where a user finds it."""

import dataclasses
from datetime import date

import pytest

from gecc.registry_generator import generate_registry
from services.intake.domain import registry_file
from services.intake.domain.centers import Center
from services.intake.domain.registry_file import (
    COLUMNS,
    RegistryFileError,
    RowError,
    decode_registry,
    format_registry,
    parse_registry,
)
from shared.sheets import BOM
from tests.support.email_addresses import (
    THAI_DOMAIN,
    THAI_DOMAIN_ASCII,
    THAI_LOCAL_PART,
    UNDELIVERABLE,
)

HEADER = ",".join(COLUMNS)
GOOD_ROW = (
    "GECC-0001,สำนักงานเขตพระนคร,Phra Nakhon,PMO/BMA/DISTRICT,กรุงเทพมหานคร,a@bma.go.th,2027-09-30"
)


def with_emails(centers: list[Center]) -> list[Center]:
    return [
        dataclasses.replace(c, contact_emails=(f"{c.id.lower()}@gecc.example.go.th",))
        for c in centers
    ]


def csv_text(*rows: str) -> str:
    return "\r\n".join((HEADER, *rows)) + "\r\n"


def errors_of(text: str) -> list[RowError]:
    with pytest.raises(RegistryFileError) as raised:
        parse_registry(text)
    return raised.value.errors


def test_a_generated_registry_survives_format_then_parse() -> None:
    centers = with_emails(generate_registry(300))
    text = format_registry(centers)
    assert text.startswith(BOM + HEADER + "\r\n")
    assert parse_registry(text) == centers
    assert format_registry(parse_registry(text)) == text


def test_a_name_a_spreadsheet_would_run_is_quoted_in_the_file_and_read_back_as_it_was() -> None:
    centers = [
        dataclasses.replace(center, name_th=name, name_en=name)
        for center, name in zip(generate_registry(3), ["=ศูนย์", "+1+1", "@SUM(A1)"], strict=True)
    ]
    text = format_registry(centers)
    assert "'=ศูนย์,'=ศูนย์" in text and "'+1+1,'+1+1" in text and "'@SUM(A1)" in text
    assert parse_registry(text) == centers


def test_the_file_reads_the_same_with_or_without_bom_and_with_either_line_ending() -> None:
    with_bom = format_registry(with_emails(generate_registry(20)))
    without_bom = with_bom.removeprefix(BOM)
    unix = without_bom.replace("\r\n", "\n")
    assert parse_registry(without_bom) == parse_registry(with_bom) == parse_registry(unix)
    assert decode_registry(with_bom.encode("utf-8")) == with_bom


def test_optional_cells_may_be_empty_and_cells_are_trimmed() -> None:
    (center,) = parse_registry(
        csv_text(" GECC-0002 , สำนักงานที่ดิน ,,PMO/MOI/DOL,เชียงใหม่, x@dol.go.th ; y@dol.go.th ,")
    )
    assert center == Center(
        "GECC-0002",
        "สำนักงานที่ดิน",
        "",
        "PMO/MOI/DOL",
        "เชียงใหม่",
        None,
        ("x@dol.go.th", "y@dol.go.th"),
    )
    (bare,) = parse_registry(csv_text("GECC-0003,ก,,PMO/MOI,ลำพูน,,"))
    assert (bare.contact_emails, bare.certified_until) == ((), None)


def test_a_quoted_name_may_hold_a_comma_and_trailing_empty_cells_are_ignored() -> None:
    (center,) = parse_registry(
        csv_text('GECC-0004,ก,"Bang Rak, Branch 2",PMO/BMA/DISTRICT,กรุงเทพมหานคร,,2027-01-31,,')
    )
    assert (center.name_en, center.certified_until) == ("Bang Rak, Branch 2", date(2027, 1, 31))


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        ("gecc-1,ก,A,PMO/MOI,ลำพูน,,", "code", "'gecc-1' is not a center code"),
        ("G,ก,A,PMO/MOI,ลำพูน,,", "code", "'G' is not a center code"),
        ("GECC-0009,,A,PMO/MOI,ลำพูน,,", "name_th", "missing"),
        ("GECC-0009,ก,A,MOI/DOL,ลำพูน,,", "office_path", "'MOI/DOL' is not an office path"),
        ("GECC-0009,ก,A,PMO/moi,ลำพูน,,", "office_path", "'PMO/moi' is not an office path"),
        ("GECC-0009,ก,A,PMO/MOI/,ลำพูน,,", "office_path", "'PMO/MOI/' is not an office path"),
        ("GECC-0009,ก,A,PMO/MOI,,,", "province", "missing"),
        ("GECC-0009,ก,A,PMO/MOI,ลำพูน,a@x.go.th;nobody,", "contact_emails", "'nobody'"),
        (
            'GECC-0009,ก,A,PMO/MOI,ลำพูน,"a@x.go.th, b@x.go.th",',
            "contact_emails",
            "separate addresses with ';'",
        ),
        ("GECC-0009,ก,A,PMO/MOI,ลำพูน,,2027-02-30", "certified_until", "is not a date"),
        ("GECC-0009,ก,A,PMO/MOI,ลำพูน,,30/09/2027", "certified_until", "is not a date"),
        ("GECC-0009,ก,A,PMO/MOI,ลำพูน,,2570-09-30", "certified_until", "Common Era year 2027"),
        ('GECC-0009,"ก\nข",A,PMO/MOI,ลำพูน,,', "name_th", "control character"),
        ("GECC-0009,ก,A,PMO/MOI,ลำพูน,,,extra", "row", "1 cell(s) after certified_until"),
        ("GECC-0009,ก,Bang Rak, Branch 2,PMO/MOI,ลำพูน,,2027-01-31", "row", "must be quoted"),
        ("GECC-0009,ก,A,PMO/MOI", "province", "the row has 4 cells, 7 expected"),
    ],
)
def test_each_wrong_cell_is_reported_with_its_line_and_column(
    row: str, field: str, reason: str
) -> None:
    (error,) = errors_of(csv_text(GOOD_ROW, row, "GECC-0010,ค,C,PMO/MOI,ลำพูน,,"))
    assert (error.line, error.field) == (3, field)
    assert reason in error.reason


def test_contact_emails_are_stored_in_normalized_form_thai_ones_included() -> None:
    (center,) = parse_registry(
        csv_text(
            f"GECC-0005,ก,,PMO/MOI,ลำพูน,{THAI_LOCAL_PART};Saraban@DOL.GO.TH;{THAI_DOMAIN_ASCII},"
        )
    )
    assert center.contact_emails == (THAI_LOCAL_PART, "Saraban@dol.go.th", THAI_DOMAIN)
    assert parse_registry(format_registry([center])) == [center]


@pytest.mark.parametrize(("address", "reason"), UNDELIVERABLE)
def test_an_undeliverable_contact_email_is_refused_with_its_line_and_why(
    address: str, reason: str
) -> None:
    good = parse_registry(csv_text(GOOD_ROW))[0]
    wrong = dataclasses.replace(good, id="GECC-0002", contact_emails=("ok@x.go.th", address))
    (error,) = errors_of(format_registry([good, wrong]))
    assert (error.line, error.field) == (3, "contact_emails")
    assert reason in error.reason
    if "control character" not in reason:
        assert f"{address!r} is not an e-mail address: " in error.reason


def test_every_error_of_every_row_is_collected() -> None:
    errors = errors_of(
        csv_text(
            GOOD_ROW,
            "bad code,,A,PMO/MOI,ลำพูน,,",
            "GECC-0011,ก,A,PMO/MOI,ลำพูน,,2027-13-01",
            "GECC-0012,ก,A,PMO/MOI,ลำพูน,,",
            "GECC-0013,ก,A,nowhere,,not-an-address,",
        )
    )
    assert [(e.line, e.field) for e in errors] == [
        (3, "code"),
        (3, "name_th"),
        (4, "certified_until"),
        (6, "office_path"),
        (6, "province"),
        (6, "contact_emails"),
    ]


def test_a_duplicate_code_names_the_line_of_its_first_occurrence() -> None:
    errors = errors_of(
        csv_text(GOOD_ROW, "GECC-0002,ข,B,PMO/MOI,ลำพูน,,", "GECC-0001,ค,C,PMO/MOI,ลำพูน,,")
    )
    assert errors == [RowError(4, "code", "GECC-0001 is already on line 2")]


def test_lines_are_counted_as_a_spreadsheet_shows_them() -> None:
    text = csv_text('GECC-0001,"ชื่อ",A,PMO/MOI,ลำพูน,,', "", "GECC-0002,ข,B,PMO/MOI,,,")
    assert errors_of(text) == [RowError(4, "province", "missing")]


@pytest.mark.parametrize(
    ("header", "reasons"),
    [
        (
            "code,name_th,name_en,office_path,province,email,certified_until",
            ["unknown column 'email'", "missing column 'contact_emails'"],
        ),
        (
            "code,name_th,name_en,office_path,province,contact_emails",
            ["missing column 'certified_until'"],
        ),
        (
            "code,name_th,name_en,office_path,province,certified_until,contact_emails",
            [f"columns out of order: expected {HEADER}"],
        ),
        (
            "code,name_th,name_th,office_path,province,contact_emails,certified_until",
            ["missing column 'name_en'", "column 'name_th' appears 2 times"],
        ),
        (GOOD_ROW, [f"the first line must be the header {HEADER}"]),
    ],
)
def test_a_wrong_header_names_the_columns(header: str, reasons: list[str]) -> None:
    errors = errors_of(header + "\r\n" + GOOD_ROW + "\r\n")
    assert errors == [RowError(1, "header", reason) for reason in reasons]


def test_an_empty_file_is_refused() -> None:
    (error,) = errors_of(BOM)
    assert (error.line, error.field) == (1, "header")
    assert "empty" in error.reason


def test_broken_csv_quoting_is_reported_at_its_line() -> None:
    errors = errors_of(csv_text(GOOD_ROW, 'GECC-0002,"ข"x,B,PMO/MOI,ลำพูน,,'))
    assert [(e.line, e.field) for e in errors] == [(3, "file")]


def test_a_file_in_a_thai_code_page_is_refused_with_its_line() -> None:
    with pytest.raises(RegistryFileError) as raised:
        decode_registry(csv_text(GOOD_ROW).encode("cp874"))
    (error,) = raised.value.errors
    assert (error.line, error.field) == (2, "file")
    assert "CSV UTF-8" in error.reason


def test_more_centers_than_the_limit_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_file, "MAX_CENTERS", 3)
    assert len(parse_registry(format_registry(generate_registry(3)))) == 3
    assert errors_of(format_registry(generate_registry(4))) == [
        RowError(5, "row", "more than 3 centers in one file")
    ]
    duplicated = csv_text(GOOD_ROW, GOOD_ROW, GOOD_ROW, GOOD_ROW)
    assert errors_of(duplicated)[-1] == RowError(5, "row", "more than 3 centers in one file")
