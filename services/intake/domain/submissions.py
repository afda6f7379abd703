"""Rules for accepting a submission version."""

from dataclasses import dataclass
from datetime import datetime

from services.intake.domain.rounds import Round, Window


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
