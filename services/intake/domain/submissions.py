"""Rules for accepting a submission version, and the receipt it gets."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from services.intake.domain.rounds import Round, Window
from shared.submission import SubmissionBody


@dataclass(frozen=True)
class Report:
    """A center's report as it arrived: validated, its raw text kept to store and hash;
    ``actor``: who sent it, as the audit log names them."""

    center_id: str
    actor: str
    body: SubmissionBody
    raw_body: bytes
    idempotency_key: str
    remote_addr: str
    received_at: datetime

    @property
    def fingerprint(self) -> bytes:
        return hashlib.sha256(self.raw_body).digest()


class SubmissionRefused(Exception):
    """The submission cannot be accepted now; ``code`` is machine-readable."""

    def __init__(self, code: str, message_en: str, message_th: str) -> None:
        super().__init__(message_en)
        self.code = code
        self.message_en = message_en
        self.message_th = message_th


@dataclass(frozen=True)
class Acceptance:
    late: bool
    extension: bool = False


def accept(round_: Round, at: datetime, extension_until: datetime | None = None) -> Acceptance:
    """On time until ``due_at``, late until ``closes_at``; after that only with an extension
    an operator granted this center, until its end."""
    window = round_.window(at)
    if window is Window.CLOSED and extension_until is not None and at <= extension_until:
        return Acceptance(late=True, extension=True)
    if window is Window.NOT_OPEN:
        raise SubmissionRefused(
            "round_not_open",
            f"round {round_.id} opens at {round_.opens_at.isoformat()}",
            f"รอบ {round_.id} ยังไม่เปิดรับรายงาน",
        )
    if window is Window.CLOSED:
        raise SubmissionRefused(
            "round_closed",
            f"round {round_.id} closed at {round_.closes_at.isoformat()}",
            f"รอบ {round_.id} ปิดรับรายงานแล้ว",
        )
    return Acceptance(late=window is Window.LATE)


def receipt_prefix(round_id: str, center_id: str) -> str:
    return f"{round_id}/{center_id}/v"


def receipt_number(round_id: str, center_id: str, version: int) -> str:
    return f"{receipt_prefix(round_id, center_id)}{version}"


def receipt(
    submission_id: UUID,
    version: int,
    receipt_number: str,
    round_id: str,
    received_at: datetime,
    acceptance: Acceptance,
) -> dict[str, Any]:
    """The answer to an accepted submission (and to every repetition of its request)."""
    return {
        "submission_id": str(submission_id),
        "version": version,
        "receipt_number": receipt_number,
        "round_id": round_id,
        "received_at": received_at.isoformat(),
        "late": acceptance.late,
        "extension": acceptance.extension,
        "status": "received",
    }
