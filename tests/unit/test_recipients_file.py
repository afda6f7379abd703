"""The recipients CSV: round trip, encodings, and every error reported where a user finds it."""

import pytest

from services.notifier.domain.recipients_file import (
    COLUMNS,
    OPERATORS_EMAIL,
    Recipient,
    RecipientsFileError,
    RowError,
    decode_recipients,
    demo_recipients,
    format_recipients,
    office_mailbox,
    parse_recipients,
)
from shared.sheets import BOM
from tests.support.email_addresses import (
    THAI_DOMAIN,
    THAI_DOMAIN_ASCII,
    THAI_LOCAL_PART,
    UNDELIVERABLE,
)

HEADER = ",".join(COLUMNS)
SECRET = "s3cret-for-hmac-0123456789"
RECIPIENTS = [
    Recipient("operators", "email", "gecc-operators@opdc.example.go.th"),
    Recipient("office:PMO/BMA", "email", "saraban@bangkok.go.th"),
    Recipient("office:PMO/PROVINCE/TH-50", "webhook", "https://cm.example.go.th/gecc", SECRET),
    Recipient("center:GECC-0001", "webhook", "https://gecc-0001.example.go.th/hook?x=1", SECRET),
    Recipient("center:GECC-0001", "webhook", "http://127.0.0.1:9000/hook", SECRET),
    Recipient("center:BMA_12", "webhook", "http://localhost/hook", SECRET),
]


def csv_text(*rows: str) -> str:
    return "\r\n".join((HEADER, *rows)) + "\r\n"


def errors_of(text: str) -> list[RowError]:
    with pytest.raises(RecipientsFileError) as raised:
        parse_recipients(text)
    return raised.value.errors


def test_recipients_survive_format_then_parse() -> None:
    text = format_recipients(RECIPIENTS)
    assert text.startswith(BOM + HEADER + "\r\n")
    assert parse_recipients(text) == RECIPIENTS
    assert format_recipients(parse_recipients(text)) == text


def test_a_secret_a_spreadsheet_would_run_is_quoted_in_the_file_and_read_back_as_it_was() -> None:
    # token_urlsafe() may start a secret with '-': the quote keeps it text, never part of it.
    hook = Recipient("center:GECC-0001", "webhook", "https://x.example.go.th/h", "-" + SECRET)
    text = format_recipients([hook])
    assert f",'-{SECRET}\r\n" in text
    assert parse_recipients(text) == [hook]


def test_the_file_reads_the_same_with_or_without_bom_and_with_either_line_ending() -> None:
    with_bom = format_recipients(RECIPIENTS)
    without_bom = with_bom.removeprefix(BOM)
    unix = without_bom.replace("\r\n", "\n")
    assert parse_recipients(without_bom) == parse_recipients(with_bom) == parse_recipients(unix)
    assert decode_recipients(with_bom.encode("utf-8")) == with_bom


def test_cells_are_trimmed_and_an_email_row_may_leave_out_its_empty_secret() -> None:
    text = csv_text(
        " operators , email , ops@opdc.go.th ",
        ",,,",
        "office:PMO/MOI/DOL,email,saraban@dol.go.th,,,",
    )
    assert parse_recipients(text) == [
        Recipient("operators", "email", "ops@opdc.go.th"),
        Recipient("office:PMO/MOI/DOL", "email", "saraban@dol.go.th"),
    ]


def test_a_file_in_a_thai_code_page_is_refused_with_its_line() -> None:
    data = csv_text("operators,email,a@b.go.th,", "office:PMO/BMA,email,สารบรรณ@bma.go.th,")
    assert decode_recipients(data.encode("utf-8"))  # Thai in UTF-8 is fine
    with pytest.raises(RecipientsFileError) as raised:
        decode_recipients(data.encode("cp874"))
    assert [(e.line, e.field) for e in raised.value.errors] == [(3, "file")]
    assert "CSV UTF-8" in raised.value.errors[0].reason


def test_every_wrong_cell_is_reported_with_its_spreadsheet_line() -> None:
    text = csv_text(
        "operators,email,ops@opdc.go.th,",  # line 2: fine
        "ops,email,a@b.go.th,",  # 3
        "office:MOI/DOL,email,a@b.go.th,",  # 4
        "center:gecc 1,email,a@b.go.th,",  # 5
        "operators,Email,a@b.go.th,",  # 6
        "operators,email,a@b.go.th;c@d.go.th,",  # 7
        "operators,email,a@b.go.th,oops",  # 8
        "center:GECC-0001,webhook,http://hooks.example.go.th/x,s3cret-for-hmac-0123456789",  # 9
        "center:GECC-0001,webhook,https://hooks.example.go.th/x,",  # 10
        "center:GECC-0001,webhook,https://hooks.example.go.th/y,short",  # 11
        "center:GECC-0001,webhook,ftp://hooks.example.go.th/x,s3cret-for-hmac-0123456789",  # 12
        "center:GECC-0001,webhook,https://u:p@hooks.example.go.th/,s3cret-for-hmac-0123456789",
        "operators,email,,",  # 14
        "operators,email",  # 15
        "operators,email,a@b.go.th,,surplus",  # 16
    )
    errors = errors_of(text)
    assert [(e.line, e.field) for e in errors] == [
        (3, "owner"),
        (4, "owner"),
        (5, "owner"),
        (6, "channel"),
        (7, "address"),
        (8, "secret"),
        (9, "address"),
        (10, "secret"),
        (11, "secret"),
        (12, "address"),
        (13, "address"),
        (14, "address"),
        (15, "address"),
        (16, "row"),
    ]
    reasons = {e.line: e.reason for e in errors}
    assert "'operators', 'office:PMO/...'" in reasons[3]
    assert "'MOI/DOL' is not an office path" in reasons[4]
    assert "'gecc 1' is not a center code" in reasons[5]
    assert "email or webhook" in reasons[6]
    assert "one address per row" in reasons[7]
    assert "leave the cell empty" in reasons[8]
    assert "https://" in reasons[9] and "127.0.0.1 or localhost" in reasons[9]
    assert reasons[10].startswith("missing")
    assert "at least 16 characters" in reasons[11]
    assert "user name or password" in reasons[13]
    assert "must be quoted" in reasons[16]


def test_a_row_given_twice_is_reported_with_the_line_of_its_first_appearance() -> None:
    errors = errors_of(
        csv_text(
            "office:PMO/BMA,email,saraban@bangkok.go.th,",
            "office:PMO/MOI,email,saraban@bangkok.go.th,",  # another owner: fine
            "office:PMO/BMA,email,Saraban@Bangkok.go.th,",  # the same mailbox
        )
    )
    assert errors == [
        RowError(4, "address", "Saraban@bangkok.go.th for office:PMO/BMA is already on line 2")
    ]


def test_email_addresses_are_kept_in_normalized_form_thai_ones_included() -> None:
    text = csv_text(
        f"office:PMO/BMA,email,{THAI_LOCAL_PART},",
        f"office:PMO/MOI,email,{THAI_DOMAIN_ASCII},",
        "operators,email,Ops@OPDC.Go.Th,",
    )
    assert parse_recipients(text) == [
        Recipient("office:PMO/BMA", "email", THAI_LOCAL_PART),
        Recipient("office:PMO/MOI", "email", THAI_DOMAIN),
        Recipient("operators", "email", "Ops@opdc.go.th"),
    ]
    assert parse_recipients(format_recipients(parse_recipients(text))) == parse_recipients(text)


@pytest.mark.parametrize(("address", "reason"), UNDELIVERABLE)
def test_an_undeliverable_address_is_refused_with_its_line_and_why(
    address: str, reason: str
) -> None:
    good = Recipient("operators", "email", "ops@opdc.go.th")
    wrong = Recipient("office:PMO/BMA", "email", address)
    (error,) = errors_of(format_recipients([good, wrong]))
    assert (error.line, error.field) == (3, "address")
    assert reason in error.reason
    if "control character" not in reason:
        assert f"{address!r} is not an e-mail address: " in error.reason


def test_a_quoted_line_break_counts_as_one_row_like_a_spreadsheet_shows_it() -> None:
    errors = errors_of(csv_text('operators,email,"a@b\n.go.th",', "ops,email,a@b.go.th,"))
    assert [(e.line, e.field) for e in errors] == [(2, "address"), (3, "owner")]
    assert "control character" in errors[0].reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the file is empty"),
        ("operators,email,a@b.go.th,\r\n", "the first line must be the header"),
        ("owner,channel,address\r\n", "missing column 'secret'"),
        ("owner,channel,address,secret,note\r\n", "unknown column 'note'"),
        ("owner,address,channel,secret\r\n", "columns out of order"),
    ],
)
def test_a_wrong_header_is_reported_on_line_one(text: str, reason: str) -> None:
    errors = errors_of(text)
    assert {e.line for e in errors} == {1} and {e.field for e in errors} == {"header"}
    assert any(reason in e.reason for e in errors)


def test_an_unterminated_quote_is_reported_not_crashed_on() -> None:
    errors = errors_of(csv_text("operators,email,a@b.go.th,", 'operators,"email,x@y.go.th,'))
    assert [e.field for e in errors] == ["file"]


def test_demo_recipients_are_one_mailbox_per_office_and_the_operators_deterministically() -> None:
    paths = ["PMO/PROVINCE/TH-10", "PMO/MOI/DOL", "PMO/MOI/DOL", "PMO/BMA/DISTRICT"]
    recipients = demo_recipients(paths)
    assert recipients == demo_recipients(reversed(paths))
    assert recipients == [
        Recipient("office:PMO/BMA/DISTRICT", "email", "saraban.bma.district@gecc.example.go.th"),
        Recipient("office:PMO/MOI/DOL", "email", "saraban.moi.dol@gecc.example.go.th"),
        Recipient(
            "office:PMO/PROVINCE/TH-10", "email", "saraban.province.th-10@gecc.example.go.th"
        ),
        Recipient("operators", "email", OPERATORS_EMAIL),
    ]
    assert parse_recipients(format_recipients(recipients)) == recipients
    with pytest.raises(ValueError, match="not an office path"):
        office_mailbox("MOI/DOL")


def test_an_office_path_too_long_for_a_mailbox_has_no_demo_recipient() -> None:
    path = "PMO/MOI/DEPARTMENT-OF-PROVINCIAL-ADMINISTRATION/CHIANG-MAI-CITY"
    with pytest.raises(ValueError, match="too long before the @-sign") as raised:
        demo_recipients(["PMO/BMA", path])
    assert f"office {path} has no demo mailbox" in str(raised.value)
