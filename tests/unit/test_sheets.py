"""CSV for people's spreadsheets: text a spreadsheet would run as a formula stays text."""

import csv
import io

import pytest
from openpyxl import load_workbook

from shared.sheets import (
    BOM,
    RowError,
    Rows,
    SheetError,
    formula_like,
    read_sheet,
    write_sheet,
    write_xlsx,
)

# OWASP's formula starts (=, +, -, @, tab, carriage return), one Thai.
FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx", "=ศูนย์"]
HARMLESS = "ศูนย์ราชการสะดวกสำนักงานเขตพระนคร"
COLUMNS = ("name", "number", "fraction", "number_as_text")


def read_back(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline="")))


def written(names: list[str]) -> str:
    return write_sheet(COLUMNS, [(name, -2, -2.5, "-2.5") for name in names])


def test_formula_like_text_is_written_behind_a_quote() -> None:
    header, *rows = read_back(written(FORMULAS))
    assert header == list(COLUMNS)
    assert [row[0] for row in rows] == ["'" + name for name in FORMULAS]


def test_harmless_text_and_numbers_are_written_as_they_are() -> None:
    _, row = read_back(written([HARMLESS]))
    assert row == [HARMLESS, "-2", "-2.5", "-2.5"]


def test_reading_the_sheet_back_gives_the_text_that_was_written() -> None:
    # The tools import the files they generate: the quote must not end up in a name.
    names = [*FORMULAS, HARMLESS, "'=already quoted", "'", "it's"]
    text = written(names)

    def first_cells(rows: Rows, errors: list[RowError]) -> list[str]:
        return [cells[0] for _, cells in rows]

    assert read_sheet(text, COLUMNS, first_cells, SheetError) == names


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1", True),
        ("-", True),
        ("-2+3", True),
        ("-2", False),
        ("+2.5", False),
        (-2, False),
        (" =1", False),
        ("ศูนย์", False),
        ("", False),
    ],
)
def test_what_a_spreadsheet_takes_for_a_formula(value: object, expected: bool) -> None:
    assert formula_like(value) is expected


def test_xlsx_holds_the_rows_of_the_csv_with_thai_intact_and_formulas_as_text() -> None:
    columns = ("name_th", "count", "note")
    rows = [["สำนักงานเขตพระนคร", 3, "=HYPERLINK(1)"], ["ก\x07ข", -2.5, ""]]
    sheet = load_workbook(io.BytesIO(write_xlsx(columns, rows, "levels")))["levels"]
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == list(columns)
    assert [c.value for c in cells[1]] == ["สำนักงานเขตพระนคร", 3, "=HYPERLINK(1)"]
    assert cells[1][2].data_type == "s" and cells[1][2].quotePrefix
    assert [c.value for c in cells[2]][:2] == ["กข", -2.5]
    assert write_sheet(columns, rows).startswith(BOM + "name_th,count,note\r\n")
