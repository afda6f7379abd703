"""Bearer-token authentication: every request names its principal."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.intake.adapters import repository
from services.intake.domain.principals import Principal
from services.intake.entrypoints.problems import Problem

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
    async with request.app.state.runtime.pool.acquire() as conn:
        found = await repository.principal_for(conn, credentials.credentials)
    if found is None:
        raise UNAUTHENTICATED
    return found


def center_of(who: Principal) -> str:
    if who.kind != "center" or who.center_id is None:
        raise Problem(
            403,
            "center_only",
            "Only a center can submit its report",
            "เฉพาะศูนย์บริการเท่านั้นที่ส่งรายงานได้",
        )
    return who.center_id


Caller = Annotated[Principal, Depends(principal)]
