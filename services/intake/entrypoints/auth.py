"""Bearer-token authentication and per-token rate limits: every request names its principal."""

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from services.intake.adapters import repository
from services.intake.domain.principals import Principal, PrincipalKind
from services.intake.domain.rate_limit import RateLimiter
from services.intake.entrypoints.problems import Problem


class PrincipalCache:
    """Known tokens for a few seconds, to spare a query per request; a revoked token keeps
    working at most ``ttl`` seconds longer in each process."""

    def __init__(self, ttl: float, max_entries: int = 100_000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: dict[bytes, tuple[Principal, float]] = {}

    def get(self, key: bytes, now: float) -> Principal | None:
        entry = self._entries.get(key)
        return entry[0] if entry is not None and entry[1] > now else None

    def put(self, key: bytes, principal: Principal, now: float) -> None:
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[key] = (principal, now + self._ttl)


bearer = HTTPBearer(auto_error=False, description="A center, office or operator API token")

UNAUTHENTICATED = Problem(
    401,
    "unauthenticated",
    "A valid API token is required",
    "ต้องใช้โทเคนที่ถูกต้อง",
    headers={"WWW-Authenticate": "Bearer"},
)


async def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None:
        raise UNAUTHENTICATED
    return await authenticate(request.app.state, credentials.credentials)


async def principal_of(state: State, authorization: str) -> Principal:
    """The caller named by an ``Authorization`` header (``principal`` without FastAPI's
    dependency machinery, for the submission route)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise UNAUTHENTICATED
    return await authenticate(state, token)


async def authenticate(state: State, token: str) -> Principal:
    key = repository.token_hash(token)
    now = time.monotonic()
    limiter: RateLimiter = state.rate_limiter
    wait = limiter.retry_after(key.hex(), now)
    if wait > 0:
        raise Problem(
            429,
            "rate_limited",
            "Too many requests for this token",
            "ส่งคำขอถี่เกินกำหนด กรุณารอแล้วลองใหม่",
            headers={"Retry-After": str(math.ceil(wait))},
        )
    cache: PrincipalCache = state.principals
    found = cache.get(key, now)
    if found is None:
        async with state.runtime.pool.acquire() as conn:
            found = await repository.principal_by_hash(conn, key)
        if found is None:
            raise UNAUTHENTICATED
        cache.put(key, found, now)
    return found


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
    return request.client.host if request.client else ""


Caller = Annotated[Principal, Depends(principal)]
