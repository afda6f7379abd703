"""The audit log: who did what, to what, when and from where."""

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
    await conn.execute(
        "INSERT INTO audit_log (actor, action, target, details, remote_addr)"
        " VALUES ($1, $2, $3, $4, $5)",
        actor,
        action,
        target,
        details or {},
        remote_addr,
    )
