"""Evidence files' rules (spec §10), without I/O: the type from the content's first bytes,
the limits, names kept for display only, and how a download names its file."""

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote
from uuid import UUID

MIB = 1024 * 1024
# Bytes enough to tell every allowed type (WebP's marker is at 8..12).
HEAD_BYTES = 12
MAX_NAME_CHARS = 200
# Content types by the signature their files start with; nothing else is accepted.
ALLOWED_TYPES = ("application/pdf", "image/jpeg", "image/png", "image/webp")
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
}


@dataclass(frozen=True)
class EvidenceLimits:
    file_bytes: int = 10 * MIB
    files_per_item: int = 20
    version_bytes: int = 100 * MIB
    quota_bytes: int = 300 * MIB  # a center's files in one round


class EvidenceRefused(Exception):
    """An upload or a delete that cannot be done; ``code`` is the problem's code."""

    def __init__(self, code: str, message_en: str, message_th: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_th = message_th


def content_type_of(head: bytes) -> str | None:
    """The type the first bytes show (at least ``HEAD_BYTES`` unless the file is shorter)."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= HEAD_BYTES and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def unsupported_type() -> EvidenceRefused:
    allowed = ", ".join(ALLOWED_TYPES)
    return EvidenceRefused(
        "unsupported_type",
        f"The file is not one of the allowed types ({allowed}), judged by its content",
        "รองรับเฉพาะไฟล์ PDF, JPEG, PNG และ WebP (ตรวจจากเนื้อหาไฟล์)",
    )


def file_too_large(limits: EvidenceLimits) -> EvidenceRefused:
    mib = limits.file_bytes // MIB
    return EvidenceRefused(
        "file_too_large",
        f"A file may be at most {mib} MiB ({limits.file_bytes} bytes)",
        f"ไฟล์มีขนาดได้ไม่เกิน {mib} MiB",
    )


def check_quota(used: int, adding: int, limits: EvidenceLimits) -> None:
    """Refuse a file that would take the center's files in the round past the quota."""
    if used + adding > limits.quota_bytes:
        mib = limits.quota_bytes // MIB
        raise EvidenceRefused(
            "quota_exceeded",
            f"The center's files for this round would exceed {mib} MiB"
            f" ({used} bytes used of {limits.quota_bytes})",
            f"ไฟล์ของหน่วยบริการในรอบนี้รวมกันได้ไม่เกิน {mib} MiB",
        )


def check_item_count(count: int, limits: EvidenceLimits) -> None:
    """Refuse a new file for an item that has its ``files_per_item`` already."""
    if count >= limits.files_per_item:
        raise EvidenceRefused(
            "too_many_files",
            f"An item may have at most {limits.files_per_item} files",
            f"แต่ละข้อมีไฟล์ได้ไม่เกิน {limits.files_per_item} ไฟล์",
        )


def referenced() -> EvidenceRefused:
    return EvidenceRefused(
        "file_referenced",
        "A submitted version references this file; it cannot be deleted",
        "ไฟล์นี้อยู่ในรายงานที่ส่งแล้ว จึงลบไม่ได้",
    )


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def display_name(raw: str, content_type: str) -> str:
    """A file name kept for display only: its last path part, NFC, without control or
    direction characters, at most ``MAX_NAME_CHARS``; "evidence.<ext>" when nothing is left."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = _CONTROL.sub("", name).strip()
    return name[:MAX_NAME_CHARS].strip() or f"evidence{EXTENSIONS[content_type]}"


_NOT_PLAIN = re.compile(r"[^A-Za-z0-9._ ()-]+")


def content_disposition(name: str) -> str:
    """``attachment`` with an ASCII fallback name and the name itself (RFC 6266/8187)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    ascii_name = _NOT_PLAIN.sub("_", ascii_name).strip(" ._") or "evidence"
    if "." in name and "." not in ascii_name:
        ascii_name += "." + _NOT_PLAIN.sub("_", name.rsplit(".", 1)[1])
    encoded = quote(name, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"


@dataclass(frozen=True)
class StoredFile:
    """What a version's check needs of a file intake keeps."""

    center_id: str
    round_id: str
    item_code: str
    size: int


def version_file_errors(
    center_id: str,
    round_id: str,
    items: Sequence[tuple[str, Sequence[UUID]]],
    known: Mapping[UUID, StoredFile],
    limits: EvidenceLimits,
) -> list[tuple[str, str]]:
    """(field, reason) for each file reference of a version that is not the center's, the
    round's and that item's, and for a version whose files exceed ``version_bytes``."""
    errors: list[tuple[str, str]] = []
    total = 0
    over: int | None = None  # the item whose files take the total past the limit
    for i, (item_code, file_ids) in enumerate(items):
        for j, file_id in enumerate(file_ids):
            found = known.get(file_id)
            field = f"checklist.items[{i}].files[{j}]"
            if found is None or (found.center_id, found.round_id) != (center_id, round_id):
                errors.append((field, f"no file {file_id} of this center in round {round_id}"))
            elif found.item_code != item_code:
                errors.append((field, f"file {file_id} was uploaded for item {found.item_code}"))
            else:
                total += found.size
                if over is None and total > limits.version_bytes:
                    over = i
    if over is not None:
        mib = limits.version_bytes // MIB
        reason = f"the version's files total {total} bytes; at most {mib} MiB"
        errors.append((f"checklist.items[{over}].files", reason))
    return errors


def referenced_ids(items: Iterable[tuple[str, Sequence[UUID]]]) -> list[UUID]:
    return [file_id for _, file_ids in items for file_id in file_ids]
