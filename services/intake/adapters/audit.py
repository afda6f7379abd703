"""The audit log: who did what, to what, when and from where."""

import json
from typing import Any

import asyncpg


async def record(
    conn: asyncpg.Connection,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    remote_addr: str = "",
) -> None:
    """Write one entry; call inside the transaction of the change it describes."""
    # Serialised here (text cast to jsonb) so that any connection works, with or without
    # the pool's JSON codec: the operators' tools use plain connections.
    await conn.execute(
        "INSERT INTO audit_log (actor, action, target, details, remote_addr)"
        " VALUES ($1, $2, $3, $4::text::jsonb, $5)",
        actor,
        action,
        target,
        json.dumps(details or {}, ensure_ascii=False, default=str),
        remote_addr,
    )
