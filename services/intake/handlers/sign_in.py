"""Signing in to the portal: a person asks with their address, the e-mail's one-time code
opens a session acting as one of the account's memberships, and signing out ends it.

The answer to a request says nothing of the address: the same for an unknown, a disabled
and a known address, and the per-address budget counts them all alike."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters import accounts, audit, sign_in
from services.intake.domain.accounts import Membership, Scope, choose
from services.intake.domain.principals import Principal
from services.intake.domain.sign_in import (
    SignInRules,
    new_code,
    new_session_token,
    seconds_to_wait,
)
from services.intake.handlers.accounts import target
from shared.events import SignInRequested, new_event
from shared.messaging.outbox import enqueue
from shared.topics import Topic

SERVICE = "intake"
Locale = Literal["th", "en"]


class SignInThrottled(Exception):
    """The address asked too often; ``retry_after`` seconds until it may ask again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after:.0f} s")
        self.retry_after = retry_after


class LinkUsedOrExpired(Exception):
    """One answer for a code that is unknown, used or expired (or its account disabled)."""


class NotASession(Exception):
    """Only a session can be ended; an API token is revoked by an operator."""


@dataclass(frozen=True)
class Asked:
    """A request the portal makes for a person: the portal's principal, the person's client
    as the portal names it, the portal's own address, and when."""

    portal: Principal
    client: str
    remote_addr: str
    at: datetime


@dataclass(frozen=True)
class Session:
    token: str  # given to the caller once; only its hash is stored
    expires_at: datetime
    email: str
    membership: Membership


async def request_sign_in(
    pool: asyncpg.Pool, rules: SignInRules, asked: Asked, email: str, locale: Locale
) -> None:
    """Count the request against the address's budget (:class:`SignInThrottled` when it is
    spent) and, for an enabled account that may act as something, store a one-time code and
    send it (SignInRequested through the outbox), all in one transaction. ``email`` is
    normalized."""
    now = asked.at
    async with pool.acquire() as conn, conn.transaction():
        window_start = now - rules.window
        await sign_in.forget_expired(conn, window_start, now)
        earlier = await sign_in.earlier_requests(conn, email, window_start)
        wait = seconds_to_wait(earlier, now, rules.per_address, rules.window)
        if wait > 0:
            raise SignInThrottled(wait)
        await sign_in.note_request(conn, email, now)
        account_id = await accounts.account_to_sign_in(conn, email)
        if account_id is None:
            return
        code, expires_at = new_code(), now + rules.code_lifetime
        await sign_in.add_code(conn, code, account_id, now, expires_at)
        requested = SignInRequested(
            request_id=uuid4(), email=email, code=code, expires_at=expires_at, locale=locale
        )
        await enqueue(conn, Topic.SIGN_IN_REQUESTED, email, new_event(requested, SERVICE, now))
        details = {"request_id": str(requested.request_id), "expires_at": expires_at.isoformat()}
        await _audit(conn, asked, "account.sign_in_requested", email, details)


async def open_session(
    pool: asyncpg.Pool, rules: SignInRules, asked: Asked, code: str, wanted: Scope | None
) -> Session:
    """Use the code up and open a session acting as the membership wanted, or the only one.
    :class:`LinkUsedOrExpired` for a code that cannot open one; ``ScopeNotChosen`` when the
    account has several and none (or another) was named: then the code stays usable."""
    now = asked.at
    async with pool.acquire() as conn, conn.transaction():
        holder = await sign_in.claim_code(conn, code, now)
        if holder is None:
            raise LinkUsedOrExpired()
        memberships = await accounts.memberships_of(conn, holder.account_id)
        if not memberships:  # taken away since the code was sent
            raise LinkUsedOrExpired()
        membership = choose(memberships, wanted)
        await sign_in.use_code(conn, code, now)
        token, expires_at = new_session_token(), now + rules.session_lifetime
        session_id = await sign_in.add_session(
            conn, token, holder.account_id, membership.scope, asked.client, expires_at
        )
        await accounts.note_sign_in(conn, holder.account_id, now)
        details = {
            "session_id": str(session_id),
            "scope": str(membership.scope),
            "expires_at": expires_at.isoformat(),
        }
        await _audit(conn, asked, "account.signed_in", holder.email, details)
    return Session(token, expires_at, holder.email, membership)


async def _audit(
    conn: asyncpg.Connection, asked: Asked, action: str, email: str, details: dict[str, str]
) -> None:
    details = {**details, "client": asked.client}
    await audit.record(conn, asked.portal.actor, action, target(email), details, asked.remote_addr)


async def end_session(pool: asyncpg.Pool, who: Principal, remote_addr: str, now: datetime) -> None:
    """Revoke the caller's own session, at once in every intake process."""
    if who.account_id is None or who.email is None:
        raise NotASession()
    session_id = UUID(who.token_id)
    async with pool.acquire() as conn, conn.transaction():
        if await sign_in.end_session(conn, session_id, who.actor, now):
            details = {"session_id": str(session_id)}
            await audit.record(
                conn, who.actor, "account.signed_out", target(who.email), details, remote_addr
            )
