"""The visit token a survey form carries: signed (HMAC-SHA256) over a random visit id, the
center, the device and the time it was issued; it expires and serves once.

``{visit}.{issued}.{mac}``: the visit id (12 random bytes, base64url), the Unix second it
was issued, and the first 16 bytes of the MAC (base64url). The center and the device are
not in it: they are the page's address and the device cookie, checked by the MAC."""

import base64
import hashlib
import hmac
import secrets
from collections import deque
from dataclasses import dataclass
from enum import StrEnum


class Check(StrEnum):
    OK = "ok"
    INVALID = "token_invalid"
    EXPIRED = "token_expired"
    USED = "token_used"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class VisitTokens:
    secret: bytes
    lifetime_seconds: int

    def issue(self, center_id: str, device: str, now: float) -> str:
        visit = _b64(secrets.token_bytes(12))
        issued = str(int(now))
        return f"{visit}.{issued}.{self._mac(visit, issued, center_id, device)}"

    def check(self, token: str, center_id: str, device: str, now: float) -> tuple[Check, str]:
        """Whether ``token`` was issued here for this center and device and is still fresh,
        with its visit id (empty when it is not ours)."""
        parts = token.split(".")
        if len(parts) != 3 or not parts[1].isascii() or not parts[1].isdigit():
            return Check.INVALID, ""
        visit, issued, mac = parts
        if not hmac.compare_digest(mac, self._mac(visit, issued, center_id, device)):
            return Check.INVALID, ""
        age = now - int(issued)
        if age > self.lifetime_seconds or age < -60:
            return Check.EXPIRED, visit
        return Check.OK, visit

    def _mac(self, visit: str, issued: str, center_id: str, device: str) -> str:
        message = f"{visit}.{issued}.{center_id}.{device}".encode()
        return _b64(hmac.digest(self.secret, message, hashlib.sha256)[:16])


class UsedVisits:
    """Visit ids already answered, each until its token would have expired anyway; beyond
    ``capacity`` the oldest are forgotten first (memory stays bounded under any load).

    A queue in the order they were used beside a dict of when each expires: forgetting the
    oldest is O(1) (taking a dict's first key is not, once many were deleted)."""

    def __init__(self, lifetime_seconds: float, capacity: int) -> None:
        self._lifetime = lifetime_seconds
        self._capacity = capacity
        self._until: dict[str, float] = {}
        self._order: deque[tuple[float, str]] = deque()

    def __len__(self) -> int:
        return len(self._until)

    def __contains__(self, visit: str) -> bool:
        return visit in self._until

    def use(self, visit: str, now: float) -> bool:
        """Mark ``visit`` used; False if it already was."""
        if visit in self._until:
            return False
        self._forget(now)
        until = now + self._lifetime
        self._until[visit] = until
        self._order.append((until, visit))
        return True

    def release(self, visit: str) -> None:
        """The response was not accepted after all (Kafka did not acknowledge): the same
        visit may send it again."""
        self._until.pop(visit, None)

    def _forget(self, now: float) -> None:
        order, until = self._order, self._until
        while order and (order[0][0] <= now or len(until) >= self._capacity):
            expires, visit = order.popleft()
            if until.get(visit) == expires:  # not released and used again since
                del until[visit]
