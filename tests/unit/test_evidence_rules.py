"""Evidence files' pure rules: the type from the first bytes, names for display, the
download's Content-Disposition, the limits and a version's references."""

from urllib.parse import unquote
from uuid import uuid4

import pytest

from services.intake.domain.evidence import (
    MIB,
    EvidenceLimits,
    EvidenceRefused,
    StoredFile,
    check_item_count,
    check_quota,
    content_disposition,
    content_type_of,
    display_name,
    version_file_errors,
)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.4\n%", "application/pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0d", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'>", None),
        (b"<html><script>", None),
        (b"PK\x03\x04", None),
        (b"%PD", None),
        (b"", None),
    ],
)
def test_the_type_is_decided_from_the_first_bytes(head: bytes, expected: str | None) -> None:
    assert content_type_of(head) == expected


def test_a_name_is_kept_for_display_only() -> None:
    assert display_name("C:\\Users\\me\\ภาพถ่าย.jpg", "image/jpeg") == "ภาพถ่าย.jpg"
    assert display_name("../../etc/passwd\x00.png", "image/png") == "passwd.png"
    assert display_name("evil\u202egpj.exe", "image/jpeg") == "evilgpj.exe"
    decomposed = "\u0e01\u0e33"  # NFC keeps Thai as typed; a combining é is composed
    assert display_name("cafe\u0301 " + decomposed + ".pdf", "application/pdf") == (
        "caf\u00e9 " + decomposed + ".pdf"
    )
    assert len(display_name("ก" * 500, "application/pdf")) == 200
    assert display_name(" \x07 ", "application/pdf") == "evidence.pdf"


def test_a_download_is_an_attachment_with_a_safe_ascii_fallback_and_the_real_name() -> None:
    header = content_disposition('รายงาน "ประชุม"; x.pdf')
    assert header.startswith('attachment; filename="')
    fallback = header.split('filename="')[1].split('"')[0]
    assert fallback.isascii() and '"' not in fallback and ";" not in fallback
    assert fallback.endswith(".pdf")
    encoded = header.split("filename*=UTF-8''")[1]
    assert unquote(encoded) == 'รายงาน "ประชุม"; x.pdf'
    assert " " not in encoded and ";" not in encoded
    assert content_disposition("photo 1.png") == (
        "attachment; filename=\"photo 1.png\"; filename*=UTF-8''photo%201.png"
    )


def test_the_quota_and_an_items_count_refuse_with_their_codes() -> None:
    limits = EvidenceLimits(quota_bytes=3 * MIB, files_per_item=2)
    check_quota(2 * MIB, MIB, limits)
    with pytest.raises(EvidenceRefused) as quota:
        check_quota(2 * MIB, MIB + 1, limits)
    assert quota.value.code == "quota_exceeded"
    check_item_count(1, limits)
    with pytest.raises(EvidenceRefused) as count:
        check_item_count(2, limits)
    assert count.value.code == "too_many_files"


def test_a_versions_references_must_be_the_centers_the_rounds_and_the_items() -> None:
    own, other_center, other_round, other_item, big = (uuid4() for _ in range(5))
    known = {
        own: StoredFile("C1", "R1", "P01", 10),
        other_center: StoredFile("C2", "R1", "P01", 10),
        other_round: StoredFile("C1", "R0", "P01", 10),
        other_item: StoredFile("C1", "R1", "P02", 10),
        big: StoredFile("C1", "R1", "P02", 100 * MIB),
    }
    limits = EvidenceLimits()
    assert version_file_errors("C1", "R1", [("P01", [own])], known, limits) == []
    errors = version_file_errors(
        "C1", "R1", [("P01", [own, other_center, other_round, other_item, uuid4()])], known, limits
    )
    assert [field for field, _ in errors] == [
        f"checklist.items[0].files[{j}]" for j in (1, 2, 3, 4)
    ]
    over = version_file_errors("C1", "R1", [("P01", [own]), ("P02", [big])], known, limits)
    assert over == [("checklist.items[1].files", over[0][1])]
    assert "at most 100 MiB" in over[0][1]
