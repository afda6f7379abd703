"""Intake's public HTTP API as the portal uses it: the only way the portal learns or changes
anything about reports (it reads no other service's tables).

Calls before anyone is signed in (a sign-in request, opening a link) carry the portal's
client secret; every other call carries the signed-in person's session credential, so
intake decides what they may see and do.
"""

import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from shared.standards import Standard


class IntakeUnavailable(Exception):
    """Intake did not answer, or answered 5xx: try again shortly."""


class SessionEnded(Exception):
    """The session's credential is no longer valid (expired, signed out, disabled)."""


class NotFound(Exception):
    """Not there, or not this session's to see (intake answers both with 404)."""


class Refused(Exception):
    """Intake refused the request: its problem (status, code, Thai title, field errors)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("title", str(status)))
        self.status = status
        self.problem = problem

    @property
    def code(self) -> str:
        return str(self.problem.get("code", ""))


@dataclass(frozen=True)
class Account:
    email: str
    kind: str
    center_id: str | None
    office_path: str | None
    display_name: str


@dataclass(frozen=True)
class OpenedSession:
    token: str
    expires_at: datetime
    account: Account


@dataclass(frozen=True)
class Scope:
    scope: str
    label_th: str
    label_en: str


class ChooseScope(Exception):
    """The account may act for more than one center or office: which one, this time?"""

    def __init__(self, scopes: list[Scope]) -> None:
        super().__init__("choose a scope")
        self.scopes = scopes


class IntakeClient:
    def __init__(self, client: httpx.AsyncClient, client_secret: str) -> None:
        self._http = client
        self._secret = client_secret
        self._standards: dict[str, Standard] = {}

    async def request_sign_in(self, email: str, locale: str, client: str) -> None:
        """Raises Refused: 429 (too many for this address) or 422 (not an address)."""
        body = {"email": email, "locale": locale, "client": client}
        await self._call("POST", "/v1/sign-in-requests", self._secret, json=body)

    async def open_session(self, code: str, scope: str | None, client: str) -> OpenedSession:
        """Raises Refused 410 for a used, expired or unknown link; ChooseScope."""
        body = {"code": code, "scope": scope, "client": client}
        try:
            answer = await self._call("POST", "/v1/sessions", self._secret, json=body)
        except Refused as refusal:
            if refusal.code == "choose_scope":
                raise ChooseScope([Scope(**s) for s in refusal.problem.get("scopes", [])]) from None
            raise
        account = answer["account"]
        return OpenedSession(
            token=answer["token"],
            expires_at=datetime.fromisoformat(answer["expires_at"]),
            account=Account(
                email=account["email"],
                kind=account["kind"],
                center_id=account.get("center_id"),
                office_path=account.get("office_path"),
                display_name=account.get("display_name", ""),
            ),
        )

    async def close_session(self, token: str) -> None:
        with contextlib.suppress(SessionEnded):  # already over
            await self._call("DELETE", "/v1/sessions/current", token)

    async def center_rounds(self, token: str, center_id: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self._call(
            "GET", f"/v1/centers/{center_id}/rounds", token
        )
        return found

    async def center(self, token: str, center_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("GET", f"/v1/centers/{center_id}", token)
        return found

    async def standard(self, token: str, standard_id: str | None = None) -> Standard:
        """A standard by id, or the one reports are made on now (the newest listed)."""
        if standard_id is None:
            listed = await self._call("GET", "/v1/standards", token)
            if not listed:
                raise NotFound("no standard")
            standard_id = max(listed, key=lambda s: (s["version"], s["id"]))["id"]
        assert standard_id is not None
        cached = self._standards.get(standard_id)
        if cached is None:
            definition = await self._call("GET", f"/v1/standards/{standard_id}", token)
            definition.pop("areas", None)
            cached = self._standards[standard_id] = Standard.model_validate(definition)
        return cached

    async def submission(self, token: str, submission_id: str) -> dict[str, Any]:
        """The submission with its versions, their times as datetimes."""
        found: dict[str, Any] = await self._call("GET", f"/v1/submissions/{submission_id}", token)
        for version in found["versions"]:
            for name in ("received_at", "scored_at"):
                if version.get(name):
                    version[name] = datetime.fromisoformat(version[name])
        return found

    async def submit(self, token: str, report: str, idempotency_key: str) -> dict[str, Any]:
        """Raises Refused for a report intake does not take (closed round, say)."""
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        answer: dict[str, Any] = await self._call(
            "POST", "/v1/submissions", token, content=report.encode(), headers=headers
        )
        return answer

    async def _call(self, method: str, path: str, token: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as error:
            raise IntakeUnavailable(f"{method} {path}: {error}") from error
        if response.status_code >= 500:
            raise IntakeUnavailable(f"{method} {path}: {response.status_code}")
        if response.status_code == 401:
            raise SessionEnded(path)
        if response.status_code == 404:
            raise NotFound(path)
        if response.status_code >= 400:
            raise Refused(response.status_code, _problem(response))
        return response.json() if response.content else None


def _problem(response: httpx.Response) -> dict[str, Any]:
    try:
        found = response.json()
    except ValueError:
        return {"title": response.text[:200]}
    return found if isinstance(found, dict) else {"title": str(found)}
