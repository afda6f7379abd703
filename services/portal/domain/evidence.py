"""Evidence files as the pages show them (spec §10): their types, sizes in the reader's
units, and the refusals a page may name. Intake decides everything about a file (its type
from its first bytes, the limits, who may read it); the portal only shows and passes on."""

from typing import Any

MIB = 1024 * 1024
MAX_FILE_BYTES = 10 * MIB
# An upload post carries the report's fields too (a no-script form posts the whole report):
# at most one file's worth and this much more; a bigger post is refused from its
# Content-Length before it is read.
UPLOAD_MARGIN_BYTES = MIB
MAX_UPLOAD_BYTES = MAX_FILE_BYTES + UPLOAD_MARGIN_BYTES
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
}
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp"})
ACCEPT = ".pdf,.jpg,.jpeg,.png,.webp,application/pdf,image/jpeg,image/png,image/webp"
# intake's refusals of an upload or a removal, each with a message (evidence.refused.*)
REFUSALS = frozenset(
    {
        "file_too_large",
        "quota_exceeded",
        "unsupported_type",
        "too_many_files",
        "round_closed",
        "file_referenced",
        "unavailable",
        "no_file",
        "refused",
    }
)


def refusal_of(status: int, code: str) -> str:
    """The message to show for intake's answer ``status``/``code``."""
    if code in REFUSALS:
        return code
    return {413: "file_too_large", 415: "unsupported_type", 503: "unavailable"}.get(
        status, "refused"
    )


def type_name(content_type: str) -> str:
    return TYPE_NAMES.get(content_type, content_type)


def is_image(file: dict[str, Any]) -> bool:
    return file.get("content_type") in IMAGE_TYPES


def size_parts(size: int) -> tuple[str, str]:
    """A size as a number and its unit's message key: ``("1.5", "evidence.unit.mib")``."""
    if size < 1024:
        return f"{size:,}", "evidence.unit.bytes"
    if size < MIB:
        return f"{size / 1024:,.0f}", "evidence.unit.kib"
    return f"{size / MIB:,.1f}", "evidence.unit.mib"


def attached(files: dict[str, dict[str, Any]], ids: tuple[str, ...]) -> list[dict[str, Any]]:
    """The files ``ids`` names that intake still has, in their order."""
    return [files[file_id] for file_id in ids if file_id in files]
