import pytest

from services.intake.domain.offices import (
    Office,
    OfficesFileError,
    format_offices,
    parent_of,
    parse_offices,
)


def test_a_file_written_is_read_back_with_its_thai_names() -> None:
    offices = [
        Office("PMO", "สำนักนายกรัฐมนตรี", "Office of the Prime Minister"),
        Office("PMO/BMA", "กรุงเทพมหานคร", "Bangkok Metropolitan Administration"),
        Office("PMO/X", "=HYPERLINK(1)", "-minus"),
    ]
    text = format_offices(offices)
    assert text.startswith("\ufeffoffice_path,name_th,name_en\r\n")
    assert "'=HYPERLINK(1)" in text
    assert parse_offices(text) == offices


def test_every_wrong_cell_is_named_and_nothing_is_taken() -> None:
    text = (
        "office_path,name_th,name_en\n"
        "PMO/BMA,กรุงเทพมหานคร,Bangkok\n"
        "pmo/bma/x,ชื่อ,Name\n"
        "PMO/MOI,,Interior\n"
        "PMO/BMA,ซ้ำ,Again\n"
        "PMO/A,only two\n"
    )
    with pytest.raises(OfficesFileError) as raised:
        parse_offices(text)
    assert [(e.line, e.field) for e in raised.value.errors] == [
        (3, "office_path"),
        (4, "name_th"),
        (5, "office_path"),
        (6, "row"),
    ]
    assert "already on line 2" in raised.value.errors[2].reason


def test_a_wrong_header_is_named() -> None:
    with pytest.raises(OfficesFileError) as raised:
        parse_offices("path,name_th,name_en\nPMO,ก,A\n")
    assert raised.value.errors[0].line == 1


def test_the_parent_of_an_office() -> None:
    assert parent_of("PMO/MOI/DOL") == "PMO/MOI"
    assert parent_of("PMO") is None
