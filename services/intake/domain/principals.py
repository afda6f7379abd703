"""Who is calling: a center, a parent office (its subtree, read-only), an operator, or the
portal before anyone signed in. A person signed in through the portal calls with a session:
the principal of the membership they chose, with their address and the session's end."""

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from services.intake.domain.completeness import in_scope

# What an API token, a session or a membership acts as.
Role = Literal["center", "office", "operator"]
PrincipalKind = Role | Literal["portal"]


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    center_id: str | None = None
    office_path: str | None = None
    token_id: str = ""
    label: str = ""
    # A session's: the account signed in, its address and the session's end.
    account_id: UUID | None = None
    email: str | None = None
    expires_at: datetime | None = None

    def can_read(self, center_id: str, center_office_path: str) -> bool:
        if self.kind == "operator":
            return True
        if self.kind == "center":
            return self.center_id == center_id
        if self.kind == "office":
            assert self.office_path is not None
            return in_scope(center_office_path, self.office_path)
        return False

    @property
    def scope(self) -> str | None:
        """The office subtree this caller may oversee (None for a center)."""
        return {"operator": "PMO", "office": self.office_path}.get(self.kind)

    @property
    def actor(self) -> str:
        """How the audit log names this caller: a person by their address."""
        if self.email is not None:
            return f"account:{self.email}"
        if self.kind == "center":
            return f"center:{self.center_id}"
        if self.kind == "office":
            return f"office:{self.office_path}"
        if self.kind == "portal":
            return "portal"
        return f"operator:{self.label or self.token_id}"

    def seconds_left(self, now: datetime) -> float | None:
        """Until the session ends (None: an API token, which does not end by itself)."""
        return None if self.expires_at is None else (self.expires_at - now).total_seconds()


PORTAL = Principal("portal", label="portal")


class PrincipalCache:
    """Known tokens for ``ttl`` seconds, to spare a query per request, and never past a
    session's end.

    Trusted only while revocations are followed (``adapters/revocations.py``): a revoked
    token is forgotten in every process at once, and while the database's notifications
    cannot be heard every request asks the database. A lookup that began before a
    revocation is never cached after it (``generation``).
    """

    def __init__(self, ttl: float, max_entries: int = 100_000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._trusted = False
        self.generation = 0

    def get(self, key: bytes, now: float) -> Principal | None:
        entry = self._entries.get(key)
        return entry[0] if entry is not None and entry[1] > now else None

    def put(
        self, key: bytes, principal: Principal, now: float, generation: int, wall_now: datetime
    ) -> None:
        """Keep ``principal`` from ``now`` (monotonic) for ``ttl`` seconds, or until its
        session ends when that is sooner (``wall_now``: the same moment in UTC)."""
        if not self._trusted or generation != self.generation:
            return
        seconds_left = principal.seconds_left(wall_now)
        lifetime = self._ttl if seconds_left is None else min(self._ttl, seconds_left)
        if lifetime <= 0:
            return
        if len(self._entries) >= self._max_entries:
            self._entries.popitem(last=False)
        self._entries[key] = (principal, now + lifetime)

    def forget(self, key: bytes) -> None:
        self.generation += 1
        self._entries.pop(key, None)

    def trust(self) -> None:
        """Revocations are heard from now on; what was cached before may be stale."""
        self.forget_all()
        self._trusted = True

    def distrust(self) -> None:
        self.forget_all()
        self._trusted = False

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()
