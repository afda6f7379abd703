"""Sign-in requests, one-time codes and sessions in intake's database. Addresses, codes and
session tokens are stored as their SHA-256 (``token_hash``) only."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.intake.adapters.repository import token_hash
from services.intake.domain.accounts import Scope
from services.intake.domain.sign_in import SESSION_TOKEN_PREFIX

# Random characters kept in a session's visible prefix, as for API tokens.
PREFIX_RANDOM_CHARS = 8


@dataclass(frozen=True)
class CodeHolder:
    """The enabled account a valid code was sent to."""

    account_id: UUID
    email: str


async def earlier_requests(conn: asyncpg.Connection, email: str, since: datetime) -> list[datetime]:
    """The address's sign-in requests since ``since``. Holds the address until the
    transaction ends, so that concurrent requests (in any process) count one after another."""
    address = token_hash(email)
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('gecc.sign-in.' || encode($1, 'hex'), 0))",
        address,
    )
    rows = await conn.fetch(
        "SELECT requested_at FROM sign_in_requests WHERE address_hash = $1 AND requested_at > $2",
        address,
        since,
    )
    return [row["requested_at"] for row in rows]


async def note_request(conn: asyncpg.Connection, email: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO sign_in_requests (address_hash, requested_at) VALUES ($1, $2)",
        token_hash(email),
        at,
    )


async def forget_expired(
    conn: asyncpg.Connection, requests_before: datetime, now: datetime
) -> None:
    """Delete what can no longer count: requests out of the budget's window, codes and
    sessions past their end."""
    await conn.execute("DELETE FROM sign_in_requests WHERE requested_at <= $1", requests_before)
    await conn.execute("DELETE FROM sign_in_codes WHERE expires_at <= $1", now)
    await conn.execute("DELETE FROM api_tokens WHERE expires_at <= $1", now)


async def add_code(
    conn: asyncpg.Connection, code: str, account_id: UUID, at: datetime, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO sign_in_codes (code_hash, account_id, requested_at, expires_at)"
        " VALUES ($1, $2, $3, $4)",
        token_hash(code),
        account_id,
        at,
        expires_at,
    )


async def claim_code(conn: asyncpg.Connection, code: str, now: datetime) -> CodeHolder | None:
    """The account of an unused, unexpired code of an enabled account, the code locked until
    the transaction ends (a second claim waits, then finds it used); None otherwise."""
    row = await conn.fetchrow(
        "SELECT a.id, a.email FROM sign_in_codes c JOIN accounts a ON a.id = c.account_id"
        " WHERE c.code_hash = $1 AND c.used_at IS NULL AND c.expires_at > $2 AND a.enabled"
        " FOR UPDATE OF c",
        token_hash(code),
        now,
    )
    return None if row is None else CodeHolder(row["id"], row["email"])


async def use_code(conn: asyncpg.Connection, code: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE sign_in_codes SET used_at = $2 WHERE code_hash = $1", token_hash(code), at
    )


async def add_session(
    conn: asyncpg.Connection,
    token: str,
    account_id: UUID,
    scope: Scope,
    client: str,
    expires_at: datetime,
) -> UUID:
    """Store a session token for the account acting as ``scope``; returns its id."""
    session_id: UUID = await conn.fetchval(
        "INSERT INTO api_tokens (token_hash, kind, center_id, office_path, label, prefix,"
        " account_id, scope, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " RETURNING id",
        token_hash(token),
        scope.role,
        scope.center_id,
        scope.office_path,
        client,
        token[: len(SESSION_TOKEN_PREFIX) + PREFIX_RANDOM_CHARS],
        account_id,
        str(scope),
        expires_at,
    )
    return session_id


async def end_session(conn: asyncpg.Connection, session_id: UUID, by: str, at: datetime) -> bool:
    """Revoke one session (migration 007 tells every intake process); False if it was not
    open."""
    status = await conn.execute(
        "UPDATE api_tokens SET revoked_at = $3, revoked_by = $2"
        " WHERE id = $1 AND account_id IS NOT NULL AND revoked_at IS NULL",
        session_id,
        by,
        at,
    )
    return bool(status == "UPDATE 1")


async def end_sessions_of(conn: asyncpg.Connection, account_id: UUID, by: str, at: datetime) -> int:
    """Revoke every open session of the account; returns how many."""
    status: str = await conn.execute(
        "UPDATE api_tokens SET revoked_at = $3, revoked_by = $2"
        " WHERE account_id = $1 AND revoked_at IS NULL",
        account_id,
        by,
        at,
    )
    return int(status.split()[-1])
