"""Accounts and their memberships in intake's database."""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.intake.domain.accounts import Membership, Scope, Source

Listed = tuple[str, Scope]
"""An account's address and one thing it may act as."""


@dataclass(frozen=True)
class AccountInfo:
    """What ``gecc accounts list`` shows: never a token or a code."""

    email: str
    enabled: bool
    scopes: list[str]
    last_signed_in_at: datetime | None
    disabled_at: datetime | None


async def add_accounts(conn: asyncpg.Connection, emails: Iterable[str]) -> list[str]:
    """Add an enabled account for each new address; returns the addresses added."""
    rows = await conn.fetch(
        "INSERT INTO accounts (email) SELECT unnest($1::text[]) ORDER BY 1"
        " ON CONFLICT (email) DO NOTHING RETURNING email",
        sorted(set(emails)),
    )
    return [row["email"] for row in rows]


async def add_memberships(
    conn: asyncpg.Connection, listed: Sequence[Listed], source: Source
) -> list[Listed]:
    """Add the memberships the accounts do not have yet; returns those added."""
    rows = await conn.fetch(
        """
        WITH added AS (
            INSERT INTO memberships (account_id, role, center_id, office_path, source)
            SELECT a.id, m.role, m.center_id, m.office_path, $5
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                AS m(email, role, center_id, office_path)
            JOIN accounts a ON a.email = m.email
            ON CONFLICT (account_id, scope) DO NOTHING
            RETURNING account_id, role, center_id, office_path
        )
        SELECT a.email, added.role, added.center_id, added.office_path
        FROM added JOIN accounts a ON a.id = added.account_id
        """,
        [email for email, _ in listed],
        [scope.role for _, scope in listed],
        [scope.center_id for _, scope in listed],
        [scope.office_path for _, scope in listed],
        source,
    )
    return [(row["email"], _scope(row)) for row in rows]


async def remove_memberships(conn: asyncpg.Connection, listed: Sequence[Listed]) -> list[Listed]:
    """Remove these memberships, and with them their sessions (migration 008)."""
    rows = await conn.fetch(
        """
        DELETE FROM memberships m USING accounts a,
            unnest($1::text[], $2::text[]) AS gone(email, scope)
        WHERE a.email = gone.email AND m.account_id = a.id AND m.scope = gone.scope
        RETURNING a.email, m.role, m.center_id, m.office_path
        """,
        [email for email, _ in listed],
        [str(scope) for _, scope in listed],
    )
    return [(row["email"], _scope(row)) for row in rows]


async def registry_memberships(
    conn: asyncpg.Connection, center_ids: Collection[str]
) -> set[Listed]:
    """The memberships the registry gave these centers' contact addresses."""
    rows = await conn.fetch(
        "SELECT a.email, m.role, m.center_id, m.office_path FROM memberships m"
        " JOIN accounts a ON a.id = m.account_id"
        " WHERE m.source = 'registry' AND m.center_id = ANY($1::text[])",
        list(center_ids),
    )
    return {(row["email"], _scope(row)) for row in rows}


async def unregistered_centers(conn: asyncpg.Connection, ids: Collection[str]) -> set[str]:
    """Those of ``ids`` that are not in the registry."""
    rows = await conn.fetch(
        "SELECT wanted.id FROM unnest($1::text[]) AS wanted(id)"
        " WHERE NOT EXISTS (SELECT 1 FROM centers c WHERE c.id = wanted.id)",
        list(ids),
    )
    return {row["id"] for row in rows}


async def offices_without_centers(conn: asyncpg.Connection, paths: Collection[str]) -> set[str]:
    """Those of ``paths`` that no registered center reports through."""
    rows = await conn.fetch(
        "SELECT wanted.path FROM unnest($1::text[]) AS wanted(path)"
        " WHERE NOT EXISTS (SELECT 1 FROM centers c WHERE c.office_path = wanted.path"
        " OR starts_with(c.office_path, wanted.path || '/'))",
        list(paths),
    )
    return {row["path"] for row in rows}


async def account_to_sign_in(conn: asyncpg.Connection, email: str) -> UUID | None:
    """The account of ``email`` if it is enabled and may act as something."""
    found: UUID | None = await conn.fetchval(
        "SELECT a.id FROM accounts a WHERE a.email = $1 AND a.enabled"
        " AND EXISTS (SELECT 1 FROM memberships m WHERE m.account_id = a.id)",
        email,
    )
    return found


async def memberships_of(conn: asyncpg.Connection, account_id: UUID) -> list[Membership]:
    rows = await conn.fetch(
        "SELECT m.role, m.center_id, m.office_path, c.name_th, c.name_en FROM memberships m"
        " LEFT JOIN centers c ON c.id = m.center_id WHERE m.account_id = $1 ORDER BY m.scope",
        account_id,
    )
    return [Membership(_scope(row), row["name_th"] or "", row["name_en"] or "") for row in rows]


async def note_sign_in(conn: asyncpg.Connection, account_id: UUID, at: datetime) -> None:
    await conn.execute("UPDATE accounts SET last_signed_in_at = $2 WHERE id = $1", account_id, at)


async def disable(conn: asyncpg.Connection, email: str, by: str, at: datetime) -> UUID | None:
    """Disable an enabled account; None when there is none of that address enabled."""
    found: UUID | None = await conn.fetchval(
        "UPDATE accounts SET enabled = false, disabled_at = $3, disabled_by = $2"
        " WHERE email = $1 AND enabled RETURNING id",
        email,
        by,
        at,
    )
    return found


async def exists(conn: asyncpg.Connection, email: str) -> bool:
    return bool(
        await conn.fetchval("SELECT EXISTS (SELECT 1 FROM accounts WHERE email = $1)", email)
    )


async def list_accounts(conn: asyncpg.Connection) -> list[AccountInfo]:
    rows = await conn.fetch(
        """
        SELECT a.email, a.enabled, a.last_signed_in_at, a.disabled_at,
               coalesce(array_agg(m.scope ORDER BY m.scope)
                        FILTER (WHERE m.scope IS NOT NULL), '{}') AS scopes
        FROM accounts a LEFT JOIN memberships m ON m.account_id = a.id
        GROUP BY a.id ORDER BY a.email
        """
    )
    return [
        AccountInfo(
            email=row["email"],
            enabled=row["enabled"],
            scopes=list(row["scopes"]),
            last_signed_in_at=row["last_signed_in_at"],
            disabled_at=row["disabled_at"],
        )
        for row in rows
    ]


def _scope(row: asyncpg.Record) -> Scope:
    return Scope(row["role"], row["center_id"], row["office_path"])


@dataclass(frozen=True)
class AccountRow:
    """An account as operators search them: what it may act as, and its kind (its widest
    membership: operator, then office, then center; None without any)."""

    email: str
    kind: str | None
    disabled: bool
    memberships: list[Membership]


ACCOUNT_KINDS = """
    SELECT a.id, a.email, NOT a.enabled AS disabled,
           CASE WHEN bool_or(m.role = 'operator') THEN 'operator'
                WHEN bool_or(m.role = 'office') THEN 'office'
                WHEN bool_or(m.role = 'center') THEN 'center' END AS kind
    FROM accounts a LEFT JOIN memberships m ON m.account_id = a.id
    WHERE strpos(a.email, $1) > 0
    GROUP BY a.id
"""


async def search_accounts(
    conn: asyncpg.Connection, contains: str, kind: str | None, limit: int, offset: int
) -> tuple[int, list[AccountRow]]:
    """Accounts whose address contains ``contains`` (lower case), of ``kind`` if given, by
    address; (how many in all, this page)."""
    total: int = await conn.fetchval(
        f"SELECT count(*) FROM ({ACCOUNT_KINDS}) k WHERE $2::text IS NULL OR k.kind = $2",
        contains,
        kind,
    )
    rows = await conn.fetch(
        f"SELECT * FROM ({ACCOUNT_KINDS}) k WHERE $2::text IS NULL OR k.kind = $2"
        " ORDER BY k.email LIMIT $3 OFFSET $4",
        contains,
        kind,
        limit,
        offset,
    )
    held = await conn.fetch(
        "SELECT m.account_id, m.role, m.center_id, m.office_path, c.name_th, c.name_en"
        " FROM memberships m LEFT JOIN centers c ON c.id = m.center_id"
        " WHERE m.account_id = ANY($1::uuid[]) ORDER BY m.scope",
        [row["id"] for row in rows],
    )
    by_account: dict[UUID, list[Membership]] = {}
    for m in held:
        membership = Membership(_scope(m), m["name_th"] or "", m["name_en"] or "")
        by_account.setdefault(m["account_id"], []).append(membership)
    return total, [
        AccountRow(row["email"], row["kind"], row["disabled"], by_account.get(row["id"], []))
        for row in rows
    ]
