"""Who is calling: every ``/v1`` request names its principal before anything else reads it.

One reading of credentials for every route: exactly one ``Authorization: Bearer <token>``
header (the scheme in any case, spaces or tabs around the token); two such headers are
refused (400) rather than one of them chosen. A refusal is logged (never the token) and
counted in ``gecc_auth_refusals_total{reason}``. Tokens that are unknown or malformed cost
a database lookup each, so they are budgeted per client address; known tokens have a
budget of their own.

The portal's own credential (a secret both hold, compared as SHA-256 digests in constant
time) may only ask to sign in: every route that reads its caller with ``Caller`` or
``principal_in`` answers it 403. A session is refused once it ended, even from the cache.
"""

import hmac
import math
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from services.intake.adapters import repository
from services.intake.domain.principals import PORTAL, Principal, PrincipalCache, PrincipalKind
from services.intake.entrypoints.problems import (
    DATABASE_DOWN,
    Problem,
    note_refusal,
    send_problem,
)
from shared.database import DATABASE_UNAVAILABLE
from shared.rate_limit import RateLimiter

PROTECTED = "/v1/"


UNAUTHENTICATED = Problem(
    401,
    "unauthenticated",
    "A valid API token is required",
    "ต้องใช้โทเคนที่ถูกต้อง",
    headers={"WWW-Authenticate": "Bearer"},
)
DUPLICATE_CREDENTIALS = Problem(
    400,
    "ambiguous_credentials",
    "Send exactly one Authorization header",
    "ส่ง Authorization ได้เพียงหนึ่งรายการ",
    [{"field": "Authorization", "reason": "given more than once"}],
)


class Refused(Exception):
    def __init__(self, reason: str, problem: Problem) -> None:
        super().__init__(reason)
        self.reason = reason
        self.problem = problem


def _too_many(title: str, title_th: str, wait: float) -> Problem:
    return Problem(
        429, "rate_limited", title, title_th, headers={"Retry-After": str(math.ceil(wait))}
    )


def bearer_token(values: list[bytes]) -> str:
    """The token of the request's one ``Authorization: Bearer`` header."""
    if len(values) > 1:
        raise Refused("duplicate", DUPLICATE_CREDENTIALS)
    if not values or not values[0].strip():
        raise Refused("missing", UNAUTHENTICATED)
    parts = values[0].split()
    if len(parts) != 2 or parts[0].lower() != b"bearer" or not parts[1].isascii():
        raise Refused("malformed", UNAUTHENTICATED)
    return parts[1].decode("ascii")


async def authenticate(state: State, token: str, client: str) -> Principal:
    key = repository.token_hash(token)
    found = PORTAL if hmac.compare_digest(key, state.portal_client) else None
    if found is None:
        found = await _known(state, key, client)
    limiter: RateLimiter = state.rate_limiter
    wait = limiter.retry_after(key.hex(), time.monotonic())
    if wait > 0:
        raise Refused(
            "rate_limited",
            _too_many(
                "Too many requests for this token",
                "ส่งคำขอถี่เกินกำหนด กรุณารอแล้วลองใหม่",
                wait,
            ),
        )
    return found


async def _known(state: State, key: bytes, client: str) -> Principal:
    """The principal of a token (or session) from the cache or the database."""
    now, wall_now = time.monotonic(), datetime.now(UTC)
    cache: PrincipalCache = state.principals
    found = cache.get(key, now)
    if found is not None:
        return found
    refused: RateLimiter = state.refused_addresses
    wait = refused.wait(client, now)
    if wait > 0:
        raise Refused(
            "throttled",
            _too_many(
                "Too many refused credentials from this address",
                "ใช้โทเคนไม่ถูกต้องบ่อยเกินกำหนด กรุณารอแล้วลองใหม่",
                wait,
            ),
        )
    generation = cache.generation
    async with state.runtime.pool.acquire() as conn:
        found = await repository.principal_by_hash(conn, key, wall_now)
    if found is None:
        refused.retry_after(client, now)
        raise Refused("unknown", UNAUTHENTICATED)
    cache.put(key, found, now, generation, wall_now)
    return found


class Authentication:
    """ASGI middleware: a ``/v1`` request goes on only with its principal in
    ``scope["state"]["principal"]``; otherwise it is answered here."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PROTECTED):
            await self.app(scope, receive, send)
            return
        state: State = scope["app"].state
        client = client_address(scope)
        values = [value for name, value in scope["headers"] if name == b"authorization"]
        try:
            principal = await authenticate(state, bearer_token(values), client)
        except Refused as refusal:
            note_refusal(state, refusal.reason, scope["method"], scope["path"], client)
            await send_problem(send, refusal.problem)
            return
        except DATABASE_UNAVAILABLE:
            await send_problem(send, DATABASE_DOWN)
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else ""


bearer = HTTPBearer(
    auto_error=False,
    description="A center, office or operator API token, a person's session, or (for the"
    " sign-in routes only) the portal's credential",
)


async def principal(
    request: Request,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The principal ``Authentication`` found (the dependency documents the scheme). Async:
    FastAPI runs a plain function dependency on a worker thread, per request."""
    return principal_in(request.scope)


def principal_in(scope: Scope) -> Principal:
    """The caller of any route but the sign-in routes: never the portal's credential."""
    found: Principal = scope["state"]["principal"]
    if found.kind == "portal":
        raise PORTAL_ONLY_SIGNS_IN
    return found


async def portal(
    request: Request,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller of a sign-in route: the portal's credential only."""
    found: Principal = request.scope["state"]["principal"]
    require(found, "portal")
    return found


PORTAL_ONLY_SIGNS_IN = Problem(
    403,
    "forbidden",
    "The portal's credential may only ask to sign in",
    "ข้อมูลรับรองของพอร์ทัลใช้ได้เฉพาะการเข้าสู่ระบบ",
)


def require(who: Principal, *kinds: PrincipalKind) -> None:
    if who.kind not in kinds:
        raise Problem(
            403,
            "forbidden",
            f"Only {' or '.join(kinds)} tokens may do this",
            "โทเคนนี้ไม่มีสิทธิ์ทำรายการนี้",
        )


def center_of(who: Principal) -> str:
    require(who, "center")
    assert who.center_id is not None
    return who.center_id


def remote_addr(request: Request) -> str:
    return client_address(request.scope)


Caller = Annotated[Principal, Depends(principal)]
Portal = Annotated[Principal, Depends(portal)]
