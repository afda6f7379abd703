"""A citizen's answers: which questions they rated and how, and the event id that makes
the same device answering the same center on the same day one response."""

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from shared.events import SURVEY_NAMESPACE

RATINGS = ("1", "2", "3", "4", "5")
FIELD_PREFIX = "q_"


def event_id(device: str, center_id: str, day: date) -> UUID:
    return uuid5(SURVEY_NAMESPACE, f"{device}/{center_id}/{day.isoformat()}")


_NAMESPACE = SURVEY_NAMESPACE.bytes


def event_id_text(device: str, center_id: str, day: str) -> str:
    """``str(event_id(...))`` for a day written ``YYYY-MM-DD``, without building a UUID
    object (the hot path): SHA-1 of namespace and name, version 5, RFC 4122 variant."""
    digest = bytearray(hashlib.sha1(_NAMESPACE + f"{device}/{center_id}/{day}".encode()).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class Answers:
    """The form's ratings (question code -> 1..5) and the questions left unanswered."""

    ratings: dict[str, int]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.missing


def answers_of(form: Mapping[str, str], codes: Sequence[str]) -> Answers:
    """Ratings are read only for the standard's questions; anything else is ignored, and a
    value other than 1..5 counts as no answer."""
    ratings: dict[str, int] = {}
    missing: list[str] = []
    for code in codes:
        value = form.get(FIELD_PREFIX + code)
        if value in RATINGS:
            ratings[code] = int(value)
        else:
            missing.append(code)
    return Answers(ratings, tuple(missing))
