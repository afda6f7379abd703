"""shared/signing: a signature check answers True or False for any header value, never raises.

Header values reach receivers as ``str``; Starlette decodes the raw bytes as latin-1, so any
byte 0x80-0xFF arrives as a non-ASCII character.
"""

from datetime import UTC, datetime

import pytest

from shared.signing import parse_timestamp, sign, verify_signature

SECRET = "s3cret-shared-with-the-receiver"
NOW = datetime(2027, 4, 23, 9, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
BODY = '{"round_id":"FY2570-H1","text":"เรียน ศูนย์บริการ"}'.encode()
GOOD = sign(SECRET, TS, BODY)
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def latin1(raw: bytes) -> str:
    """A header value as Starlette hands it over."""
    return raw.decode("latin-1")


def test_a_fresh_genuine_signature_verifies() -> None:
    assert parse_timestamp(str(TS)) == TS
    assert verify_signature(SECRET, str(TS), BODY, GOOD, NOW)


BAD_TIMESTAMPS = {
    "empty": "",
    "whitespace": "   ",
    "padded": f" {TS} ",
    "newline": f"{TS}\n",
    "sign": f"+{TS}",
    "negative": f"-{TS}",
    "leading zero": f"0{TS}",
    "zero": "0",
    "underscores": f"{TS:_}",
    "decimal": f"{TS}.0",
    "exponent": "1.8e9",
    "arabic-indic digits": str(TS).translate(ARABIC_INDIC),
    "fullwidth digits": "".join(chr(0xFF10 + int(d)) for d in str(TS)),
    "arabic-indic, utf-8 as latin-1": latin1(str(TS).translate(ARABIC_INDIC).encode()),
    "latin-1 byte": latin1(b"17\xe9"),
    "huge": "9" * 400,
    "over int() digit limit": "9" * 5000,
    "words": "yesterday",
}


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS.values(), ids=BAD_TIMESTAMPS.keys())
def test_a_malformed_timestamp_is_false_not_an_error(timestamp: str) -> None:
    assert parse_timestamp(timestamp) is None
    # Signed over the number it spells, the signature itself would be right.
    assert not verify_signature(SECRET, timestamp, BODY, GOOD, NOW)
    assert not verify_signature(SECRET, timestamp, BODY, sign(SECRET, timestamp, BODY), NOW)


BAD_SIGNATURES = {
    "empty": "",
    "prefix only": "sha256=",
    "no prefix": GOOD.removeprefix("sha256="),
    "other algorithm": GOOD.replace("sha256=", "sha512="),
    "upper-case prefix": GOOD.replace("sha256=", "SHA256="),
    "padded": f" {GOOD} ",
    "trailing newline": f"{GOOD}\n",
    "one hex digit short": GOOD[:-1],
    "one hex digit more": GOOD + "0",
    "twice": GOOD + GOOD,
    "upper-case hex": "sha256=" + GOOD.removeprefix("sha256=").upper(),
    "zeros": "sha256=" + "0" * 64,
    "non-ascii": "sha256=" + "é" * 64,
    "thai": "sha256=" + "ก" * 64,
    "latin-1 bytes": latin1(b"sha256=" + b"\xff" * 64),
    "utf-8 as latin-1": latin1(("sha256=" + "ศ" * 21 + "a").encode()),
    "nul": "sha256=" + "\x00" * 64,
    "long": "sha256=" + "a" * 10_000,
}


@pytest.mark.parametrize("signature", BAD_SIGNATURES.values(), ids=BAD_SIGNATURES.keys())
def test_a_malformed_signature_is_false_not_an_error(signature: str) -> None:
    assert not verify_signature(SECRET, str(TS), BODY, signature, NOW)
