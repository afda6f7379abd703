"""The audit log: who did what, to what, when and from where."""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

AUDIT_INSERT = "INSERT INTO audit_log (actor, action, target, details, remote_addr)"


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    action: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    remote_addr: str = ""

    def values(self) -> tuple[str, str, str, str, str]:
        """The row; details serialised here (text cast to jsonb) so that any connection
        works, with or without the pool's JSON codec: the operators' tools use plain ones."""
        details = json.dumps(self.details, ensure_ascii=False, default=str)
        return self.actor, self.action, self.target, details, self.remote_addr


async def record(
    conn: asyncpg.Connection,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> None:
    """Write one entry; call inside the transaction of the change it describes."""
    entry = AuditEntry(actor, action, target, details or {}, remote_addr)
    await conn.execute(f"{AUDIT_INSERT} VALUES ($1, $2, $3, $4::text::jsonb, $5)", *entry.values())


async def record_many(conn: asyncpg.Connection, entries: Sequence[AuditEntry]) -> None:
    """Write entries in one round trip; call inside the transaction of their changes."""
    await conn.executemany(
        f"{AUDIT_INSERT} VALUES ($1, $2, $3, $4::text::jsonb, $5)", [e.values() for e in entries]
    )
