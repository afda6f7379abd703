"""Administrative use cases run by operators' tools (the ``gecc`` command), not over HTTP."""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

import asyncpg

from services.intake.adapters import announcements, audit, repository
from services.intake.adapters.repository import token_hash
from services.intake.domain.centers import Center
from services.intake.domain.principals import Role
from services.intake.handlers import accounts

# Random characters kept in the visible prefix: enough to tell tokens apart in a list.
PREFIX_RANDOM_CHARS = 8


class RegistryImport(NamedTuple):
    inserted: int
    updated: int


@dataclass(frozen=True)
class IssuedToken:
    id: UUID
    token: str  # shown to the operator once; only its hash is stored


@dataclass(frozen=True)
class TokenInfo:
    """What can be shown of a token: never the token itself."""

    id: UUID
    kind: Role
    center_id: str | None
    office_path: str | None
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None


async def register_centers(
    conn: asyncpg.Connection, centers: Sequence[Center], actor: str = "system"
) -> RegistryImport:
    """Insert new centers and update changed ones, by id; unchanged rows are not touched, so
    re-registering the same registry changes nothing here. Counts only real inserts and
    updates. Every center given is announced to the other services (CenterRegistered), and
    its contact addresses are its accounts (``handlers/accounts.follow_registry``)."""
    duplicates = len(centers) - len({center.id for center in centers})
    if duplicates:
        raise ValueError(f"{duplicates} center id(s) appear more than once")
    async with conn.transaction():
        rows = await conn.fetchmany(
            """
            INSERT INTO centers (id, name_th, name_en, office_path, province, certified_until,
                contact_emails)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (id) DO UPDATE SET name_th = excluded.name_th,
                name_en = excluded.name_en, office_path = excluded.office_path,
                province = excluded.province, certified_until = excluded.certified_until,
                contact_emails = excluded.contact_emails, updated_at = now()
            WHERE (centers.name_th, centers.name_en, centers.office_path, centers.province,
                    centers.certified_until, centers.contact_emails)
                IS DISTINCT FROM (excluded.name_th, excluded.name_en, excluded.office_path,
                    excluded.province, excluded.certified_until, excluded.contact_emails)
            RETURNING xmax = 0 AS inserted
            """,
            [
                (
                    c.id,
                    c.name_th,
                    c.name_en,
                    c.office_path,
                    c.province,
                    c.certified_until,
                    list(c.contact_emails),
                )
                for c in centers
            ],
        )
        inserted = sum(1 for row in rows if row["inserted"])
        # Every imported center is announced, changed or not: an import states the registry,
        # and a service that joined later (or missed events) catches up from it.
        await announcements.announce_centers(conn, centers)
        await accounts.follow_registry(conn, centers, actor)
        result = RegistryImport(inserted, len(rows) - inserted)
        details = {"centers": len(centers), **result._asdict()}
        await audit.record(conn, actor, "centers.import", "registry", details)
    return result


async def issue_token(
    conn: asyncpg.Connection,
    kind: Role,
    center_id: str | None = None,
    office_path: str | None = None,
    label: str = "",
    actor: str = "system",
) -> IssuedToken:
    """A new API token; only its hash is stored, so the caller must show it now.

    Raises :class:`LookupError` for a center that is not registered or an office no
    registered center reports through.
    """
    _check_subject(kind, center_id, office_path)
    token = f"gecc_{kind}_{secrets.token_urlsafe(32)}"
    prefix = token[: len(f"gecc_{kind}_") + PREFIX_RANDOM_CHARS]
    async with conn.transaction():
        await _check_registered(conn, center_id, office_path)
        token_id = await conn.fetchval(
            "INSERT INTO api_tokens (token_hash, kind, center_id, office_path, label, prefix)"
            " VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            token_hash(token),
            kind,
            center_id,
            office_path,
            label,
            prefix,
        )
        details = {
            "kind": kind,
            "center_id": center_id,
            "office_path": office_path,
            "label": label,
            "prefix": prefix,
        }
        await audit.record(conn, actor, "tokens.issue", _token_target(token_id), details)
    return IssuedToken(token_id, token)


async def revoke_token(conn: asyncpg.Connection, token_id: UUID, actor: str) -> bool:
    """Revoke a token at once; False when there is no such token or it was already revoked."""
    async with conn.transaction():
        prefix = await conn.fetchval(
            "UPDATE api_tokens SET revoked_at = now(), revoked_by = $2"
            " WHERE id = $1 AND revoked_at IS NULL RETURNING prefix",
            token_id,
            actor,
        )
        if prefix is None:
            return False
        await audit.record(
            conn, actor, "tokens.revoke", _token_target(token_id), {"prefix": prefix}
        )
    return True


async def list_tokens(conn: asyncpg.Connection) -> list[TokenInfo]:
    """Every API token; sessions are people's (``gecc accounts list``)."""
    rows = await conn.fetch(
        "SELECT id, kind, center_id, office_path, label, prefix, created_at, revoked_at,"
        " revoked_by FROM api_tokens WHERE account_id IS NULL ORDER BY created_at, id"
    )
    return [TokenInfo(**dict(row)) for row in rows]


def _check_subject(kind: Role, center_id: str | None, office_path: str | None) -> None:
    if (kind == "center") != (center_id is not None):
        raise ValueError("a center token needs a center id, and only a center token has one")
    if (kind == "office") != (office_path is not None):
        raise ValueError("an office token needs an office path, and only an office token has one")


async def _check_registered(
    conn: asyncpg.Connection, center_id: str | None, office_path: str | None
) -> None:
    if center_id is not None and not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM centers WHERE id = $1)", center_id
    ):
        raise LookupError(f"no center {center_id} is registered")
    if office_path is not None and not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM centers"
        " WHERE office_path = $1 OR starts_with(office_path, $1 || '/'))",
        office_path,
    ):
        raise LookupError(f"no registered center reports through office {office_path}")


def _token_target(token_id: UUID) -> str:
    return f"token:{token_id}"


async def set_round_dates(
    conn: asyncpg.Connection,
    round_id: str,
    opens_at: datetime,
    due_at: datetime,
    closes_at: datetime,
) -> None:
    """Set a round's dates (demo, tests, benchmarks; operators use the audited HTTP route)."""
    async with conn.transaction():
        if not await repository.change_round_dates(conn, round_id, opens_at, due_at, closes_at):
            raise LookupError(f"no round {round_id}")
        changed = await repository.get_round(conn, round_id)
        assert changed is not None
        await announcements.announce_rounds(conn, [changed])
