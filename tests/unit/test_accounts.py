"""Accounts' pure rules: scopes as the API and the file write them, which membership a
session acts as, and the accounts file with every error where a user finds it."""

import pytest

from services.intake.domain.accounts import Membership, NotAScope, Scope, ScopeNotChosen, choose
from services.intake.domain.accounts_file import (
    COLUMNS,
    AccountsFileError,
    ListedMembership,
    decode_accounts,
    parse_accounts,
)
from shared.sheets import BOM, RowError

CENTER = Scope("center", center_id="GECC-0001")
OFFICE = Scope("office", office_path="PMO/BMA")
OPERATOR = Scope("operator")
HEADER = ",".join(COLUMNS)


@pytest.mark.parametrize(
    ("text", "scope"),
    [("center:GECC-0001", CENTER), ("office:PMO/BMA", OFFICE), ("operators", OPERATOR)],
)
def test_a_scope_reads_back_as_it_is_written(text: str, scope: Scope) -> None:
    assert Scope.parse(text) == scope
    assert str(scope) == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("center:gecc-0001", "is not a center code"),
        ("center:", "is not a center code"),
        ("office:MOI/DOL", "is not an office path"),
        ("office:PMO/BMA\x00", "is not an office path"),
        ("operator", "is not a scope"),
        ("Operators", "is not a scope"),
        ("GECC-0001", "is not a scope"),
        ("", "is not a scope"),
    ],
)
def test_a_wrong_scope_says_why(text: str, reason: str) -> None:
    with pytest.raises(NotAScope, match=reason):
        Scope.parse(text)


def test_an_operator_row_must_say_operators() -> None:
    assert Scope.of("operator", "operators") == OPERATOR
    with pytest.raises(NotAScope, match="the only scope of an operator"):
        Scope.of("operator", "PMO")


def test_the_only_membership_needs_no_choice_and_several_need_one() -> None:
    center, office = Membership(CENTER, "สำนักงานเขตพระนคร", "Phra Nakhon"), Membership(OFFICE)
    assert choose([center], None) == center
    assert choose([center, office], OFFICE) == office
    with pytest.raises(ScopeNotChosen) as unchosen:
        choose([center, office], None)
    assert unchosen.value.memberships == [center, office]
    with pytest.raises(ScopeNotChosen):
        choose([center], OPERATOR)  # not one of the account's


def test_memberships_are_labelled_in_thai_and_english() -> None:
    center = Membership(CENTER, "สำนักงานเขตพระนคร", "Phra Nakhon")
    assert (center.label_th, center.label_en) == (
        "สำนักงานเขตพระนคร (GECC-0001)",
        "Phra Nakhon (GECC-0001)",
    )
    assert Membership(OFFICE).label_en == "Parent office PMO/BMA"
    assert Membership(OPERATOR).label_en == "OPS/PMO operators"


def csv_text(*rows: str) -> str:
    return "\r\n".join((HEADER, *rows)) + "\r\n"


def errors_of(text: str) -> list[RowError]:
    with pytest.raises(AccountsFileError) as raised:
        parse_accounts(text)
    return raised.value.errors


def test_a_good_file_lists_normalized_addresses_with_their_scopes() -> None:
    text = BOM + csv_text(
        " Somchai@BMA.go.th , office , PMO/BMA ",
        "ops@opdc.go.th,operator,operators",
        "staff@district.go.th,center,GECC-0001",
        "ops@opdc.go.th,office,PMO/MOI/DOL",
    )
    assert parse_accounts(text) == [
        ListedMembership(2, "somchai@bma.go.th", OFFICE),
        ListedMembership(3, "ops@opdc.go.th", OPERATOR),
        ListedMembership(4, "staff@district.go.th", CENTER),
        ListedMembership(5, "ops@opdc.go.th", Scope("office", office_path="PMO/MOI/DOL")),
    ]


def test_every_wrong_cell_is_reported_with_its_line_and_column() -> None:
    errors = errors_of(
        csv_text(
            "not-an-address,office,PMO/BMA",
            "a@bma.go.th,boss,PMO/BMA",
            "a@bma.go.th,office,BMA",
            "a@bma.go.th,operator,PMO",
            "a@bma.go.th,center,GECC-0001,extra",
            "b@bma.go.th,office,PMO/BMA",
            " b@BMA.go.th ,office,PMO/BMA",
        )
    )
    assert [(e.line, e.field) for e in errors] == [
        (2, "email"),
        (3, "role"),
        (4, "scope"),
        (5, "scope"),
        (6, "row"),
        (8, "row"),
    ]
    assert "'boss' is not a role: center, office, operator" in errors[1].reason
    assert "already on line 7" in errors[5].reason


def test_a_wrong_header_or_encoding_is_refused() -> None:
    assert errors_of("email,scope\r\na@b.go.th,operators\r\n")[0].field == "header"
    with pytest.raises(AccountsFileError) as raised:
        decode_accounts("email,role,scope\r\nก@b.go.th,center,X\r\n".encode("cp874"))
    assert raised.value.errors[0].reason.startswith("not UTF-8 text")
