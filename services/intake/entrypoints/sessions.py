"""People signing in through the portal: the portal asks for a one-time link and opens a
session with its code (its own credential, these two routes only); a session ends itself.

Sessions and codes run on real time (``datetime.now``), whatever the rounds' clock speed."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    WithJsonSchema,
)

from services.intake.domain.accounts import Scope, account_email
from services.intake.domain.principals import Principal
from services.intake.entrypoints.auth import Caller, Portal, remote_addr
from services.intake.entrypoints.openapi import problem, problems
from services.intake.entrypoints.problems import ScopeChoice
from services.intake.handlers import sign_in
from shared.email_addresses import NotAnEmailAddress
from shared.values import StoredText

router = APIRouter(prefix="/v1", tags=["sign-in"])

MAX_EMAIL = 320
MAX_SCOPE = 300


def _address(value: str) -> str:
    try:
        return account_email(value)
    except NotAnEmailAddress as error:
        raise ValueError(str(error)) from None


def _scope(value: object) -> Scope:
    if not isinstance(value, str):
        raise ValueError("must be a string: center:<code>, office:<path> or operators")
    if len(value) > MAX_SCOPE:
        raise ValueError(f"longer than {MAX_SCOPE} characters")
    return Scope.parse(value)


EmailAddress = Annotated[StoredText, Field(max_length=MAX_EMAIL), AfterValidator(_address)]
ScopeName = Annotated[
    Scope,
    PlainValidator(_scope),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_SCOPE,
            "description": "center:<code>, office:<path> or operators",
        }
    ),
]
Client = Annotated[StoredText, Field(max_length=200, description="Who asks, for the audit log")]


class SignInRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: EmailAddress
    locale: Literal["th", "en"]
    client: Client


class SignInAnswer(BaseModel):
    status: Literal["requested"]


class SessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: StoredText = Field(min_length=1, max_length=200)
    scope: ScopeName | None = None
    client: Client


class SignedInAccount(BaseModel):
    email: str
    kind: Literal["center", "office", "operator"]
    center_id: str | None
    office_path: str | None
    display_name: str


class SessionOpened(BaseModel):
    token: str = Field(description="Bearer token of the session; shown once")
    expires_at: datetime
    account: SignedInAccount

    @classmethod
    def of(cls, session: sign_in.Session) -> "SessionOpened":
        scope = session.membership.scope
        account = SignedInAccount(
            email=session.email,
            kind=scope.role,
            center_id=scope.center_id,
            office_path=scope.office_path,
            display_name=session.membership.label_th,
        )
        return cls(token=session.token, expires_at=session.expires_at, account=account)


@router.post(
    "/sign-in-requests",
    status_code=202,
    response_model=SignInAnswer,
    summary="Send a one-time sign-in link to an address, if it is an account's (the portal)",
    description="The same answer whether or not the address belongs to an account; at most"
    " GECC_INTAKE_SIGN_IN_PER_ADDRESS (5) requests per address in"
    " GECC_INTAKE_SIGN_IN_WINDOW_MINUTES (15), known or not (429 otherwise).",
    responses=problems(),
)
async def request_sign_in(body: SignInRequest, who: Portal, request: Request) -> SignInAnswer:
    state = request.app.state
    asked = _asked(who, body.client, request)
    await sign_in.request_sign_in(state.runtime.pool, state.sign_in, asked, body.email, body.locale)
    return SignInAnswer(status="requested")


@router.post(
    "/sessions",
    status_code=201,
    response_model=SessionOpened,
    summary="Open a session with a sign-in link's code (the portal)",
    responses={
        **problems(410),
        409: problem(
            "The account may act as more than one center or office: choose one of scopes",
            ScopeChoice,
        ),
    },
)
async def open_session(body: SessionRequest, who: Portal, request: Request) -> SessionOpened:
    state = request.app.state
    asked = _asked(who, body.client, request)
    session = await sign_in.open_session(
        state.runtime.pool, state.sign_in, asked, body.code, body.scope
    )
    return SessionOpened.of(session)


def _asked(who: Principal, client: str, request: Request) -> sign_in.Asked:
    return sign_in.Asked(who, client, remote_addr(request), datetime.now(UTC))


@router.delete(
    "/sessions/current",
    status_code=204,
    summary="Sign out: end the calling session at once",
    responses=problems(),
)
async def end_session(who: Caller, request: Request) -> Response:
    await sign_in.end_session(
        request.app.state.runtime.pool, who, remote_addr(request), datetime.now(UTC)
    )
    return Response(status_code=204)
