"""People's accounts over HTTP for operators (the portal's pages): search, import the
accounts file, disable. The same use cases as ``gecc accounts``, audited the same way."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from services.intake.adapters.accounts import AccountRow
from services.intake.domain.accounts import OPERATORS, Membership, account_email
from services.intake.domain.accounts_file import (
    AccountsFileError,
    decode_accounts,
    parse_accounts,
)
from services.intake.entrypoints.auth import Caller, remote_addr, require
from services.intake.entrypoints.openapi import problems
from services.intake.entrypoints.problems import NOT_FOUND, Problem
from services.intake.handlers import accounts
from shared.email_addresses import NotAnEmailAddress
from shared.values import StoredText

router = APIRouter(prefix="/v1", tags=["accounts"], responses=problems(403))

IMPORT_PATH = "/v1/accounts/import"


class MembershipView(BaseModel):
    scope: str = Field(description="An office path, a center's code, or 'operators'")
    label_th: str
    label_en: str

    @classmethod
    def of(cls, membership: Membership) -> "MembershipView":
        s = membership.scope
        scope = s.office_path or s.center_id or OPERATORS
        return cls(scope=scope, label_th=membership.label_th, label_en=membership.label_en)


class AccountView(BaseModel):
    email: str
    kind: Literal["center", "office", "operator"] | None = Field(
        description="Its widest membership: operator, office, then center (None: none)"
    )
    disabled: bool
    memberships: list[MembershipView]

    @classmethod
    def of(cls, row: AccountRow) -> "AccountView":
        return cls.model_validate(
            {
                "email": row.email,
                "kind": row.kind,
                "disabled": row.disabled,
                "memberships": [MembershipView.of(m) for m in row.memberships],
            }
        )


class AccountsPage(BaseModel):
    total: int = Field(description="Accounts matching, over every page")
    accounts: list[AccountView]


class AccountsImported(BaseModel):
    rows: int
    accounts_added: int
    memberships_added: int


class DisableRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: StoredText = Field(min_length=3, max_length=2000)


@router.get("/accounts", response_model=AccountsPage, summary="Search accounts (operators)")
async def list_accounts(
    who: Caller,
    request: Request,
    q: Annotated[str, Query(max_length=320, description="Part of the address, any case")] = "",
    kind: Annotated[Literal["center", "office", "operator"] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AccountsPage:
    require(who, "operator")
    async with request.app.state.runtime.pool.acquire() as conn:
        total, rows = await accounts.search_accounts(conn, q, kind, limit, offset)
    return AccountsPage(total=total, accounts=[AccountView.of(row) for row in rows])


@router.post(
    IMPORT_PATH.removeprefix("/v1"),
    response_model=AccountsImported,
    summary="Import an accounts file, as `gecc accounts import` (operators; audited): any"
    " error imports nothing",
    responses=problems(404),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The accounts CSV (email,role,scope), UTF-8, at most 5 MiB",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
)
async def import_accounts(who: Caller, request: Request) -> AccountsImported:
    require(who, "operator")
    try:
        listed = parse_accounts(decode_accounts(await request.body()))
        async with request.app.state.runtime.pool.acquire() as conn:
            added = await accounts.import_accounts(conn, listed, who.actor)
    except AccountsFileError as error:
        raise Problem(
            422,
            "invalid_file",
            f"The accounts file has {len(error.errors)} error(s); nothing was imported",
            f"ไฟล์บัญชีผู้ใช้มีข้อผิดพลาด {len(error.errors)} รายการ จึงไม่ได้นำเข้าข้อมูลใดเลย",
            [
                {
                    "line": wrong.line,
                    "column": wrong.field,
                    "message": wrong.reason,
                    "message_th": f"บรรทัดที่ {wrong.line} คอลัมน์ {wrong.field}: {wrong.reason}",
                }
                for wrong in error.errors
            ],
        ) from None
    return AccountsImported(
        rows=len(listed),
        accounts_added=added.accounts_added,
        memberships_added=added.memberships_added,
    )


@router.post(
    "/accounts/{email}/disable",
    response_model=AccountView,
    summary="Disable an account and end its sessions at once (operators; audited with the"
    " reason); an account disabled already stays as it is",
    responses=problems(404),
)
async def disable_account(
    email: str, body: DisableRequest, who: Caller, request: Request
) -> AccountView:
    require(who, "operator")
    try:
        address = account_email(email)
    except NotAnEmailAddress:
        raise NOT_FOUND from None
    async with request.app.state.runtime.pool.acquire() as conn:
        try:
            await accounts.disable_account(
                conn, address, who.actor, datetime.now(UTC), body.reason, remote_addr(request)
            )
        except accounts.AccountNotFound:
            raise NOT_FOUND from None
        _, rows = await accounts.search_accounts(conn, address, None, 1000, 0)
    return AccountView.of(next(row for row in rows if row.email == address))
