"""Accounts: imported from the operators' file, kept in step with the registry's contact
addresses, listed and disabled (``gecc accounts``, ``gecc centers import``). Every change is
audited, one entry per account changed."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.intake.adapters import accounts, audit, sign_in
from services.intake.adapters.accounts import AccountInfo, AccountRow, Listed
from services.intake.adapters.audit import AuditEntry
from services.intake.domain.accounts import Scope, Source, account_email
from services.intake.domain.accounts_file import AccountsFileError, ListedMembership
from services.intake.domain.centers import Center
from shared.sheets import RowError


@dataclass(frozen=True)
class AccountsImport:
    accounts_added: int
    memberships_added: int


async def import_accounts(
    conn: asyncpg.Connection, listed: Sequence[ListedMembership], actor: str
) -> AccountsImport:
    """Add the file's accounts and memberships that are new; all of them or, when a row names
    a center or an office the registry does not have, none (:class:`AccountsFileError`).
    Memberships missing from the file are kept."""
    async with conn.transaction():
        errors = await _unknown_to_the_registry(conn, listed)
        if errors:
            raise AccountsFileError(errors)
        rows = [(row.email, row.scope) for row in listed]
        created = await accounts.add_accounts(conn, (email for email, _ in rows))
        added = await accounts.add_memberships(conn, rows, "import")
        await _audit(conn, actor, created, added, [], "import")
    return AccountsImport(len(created), len(added))


async def follow_registry(conn: asyncpg.Connection, centers: Sequence[Center], actor: str) -> None:
    """Each contact address of these centers may act as its center; an address the registry
    no longer lists for a center loses that membership, and its sessions with it. Call in
    the transaction that imports the registry."""
    listed = {
        (account_email(email), Scope("center", center_id=center.id))
        for center in centers
        for email in center.contact_emails
    }
    current = await accounts.registry_memberships(conn, [center.id for center in centers])
    new, gone = _ordered(listed - current), _ordered(current - listed)
    created = await accounts.add_accounts(conn, (email for email, _ in new))
    added = await accounts.add_memberships(conn, new, "registry")
    removed = await accounts.remove_memberships(conn, gone)
    await _audit(conn, actor, created, added, removed, "registry")


async def list_accounts(conn: asyncpg.Connection) -> list[AccountInfo]:
    return await accounts.list_accounts(conn)


async def search_accounts(
    conn: asyncpg.Connection, query: str, kind: str | None, limit: int, offset: int
) -> tuple[int, list[AccountRow]]:
    """Accounts whose address contains ``query`` (any case), of ``kind`` when given."""
    return await accounts.search_accounts(conn, query.strip().lower(), kind, limit, offset)


class AccountNotFound(LookupError):
    pass


async def disable_account(
    conn: asyncpg.Connection,
    email: str,
    actor: str,
    now: datetime,
    reason: str | None = None,
    remote_addr: str = "",
) -> int | None:
    """Disable the account of ``email`` and end its sessions at once in every intake process
    (audited, with the operator's reason when given); returns how many were open, or None
    if it was disabled already."""
    async with conn.transaction():
        account_id = await accounts.disable(conn, email, actor, now)
        if account_id is None:
            if not await accounts.exists(conn, email):
                raise AccountNotFound(email)
            return None
        ended = await sign_in.end_sessions_of(conn, account_id, actor, now)
        details: dict[str, object] = {"sessions_ended": ended}
        if reason is not None:
            details["reason"] = reason
        await audit.record(conn, actor, "account.disable", target(email), details, remote_addr)
    return ended


async def _unknown_to_the_registry(
    conn: asyncpg.Connection, listed: Sequence[ListedMembership]
) -> list[RowError]:
    centers = {row.scope.center_id for row in listed if row.scope.center_id}
    offices = {row.scope.office_path for row in listed if row.scope.office_path}
    unknown_centers = await accounts.unregistered_centers(conn, centers)
    empty_offices = await accounts.offices_without_centers(conn, offices)
    errors = []
    for row in listed:
        if row.scope.center_id in unknown_centers:
            reason = f"no center {row.scope.center_id} is registered"
            errors.append(RowError(row.line, "scope", reason))
        if row.scope.office_path in empty_offices:
            reason = f"no registered center reports through office {row.scope.office_path}"
            errors.append(RowError(row.line, "scope", reason))
    return errors


async def _audit(
    conn: asyncpg.Connection,
    actor: str,
    created: Sequence[str],
    added: Sequence[Listed],
    removed: Sequence[Listed],
    source: Source,
) -> None:
    entries = [AuditEntry(actor, "account.create", target(email)) for email in created]
    entries += [
        AuditEntry(actor, change, target(email), {"scope": str(scope), "source": source})
        for change, memberships in (
            ("account.add_membership", added),
            ("account.remove_membership", removed),
        )
        for email, scope in memberships
    ]
    await audit.record_many(conn, entries)


def _ordered(memberships: set[Listed]) -> list[Listed]:
    return sorted(memberships, key=lambda listed: (listed[0], str(listed[1])))


def target(email: str) -> str:
    """How the audit log names an account."""
    return f"account:{email}"
