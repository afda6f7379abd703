"""Intake's public HTTP API as the portal uses it: the only way the portal learns or changes
anything about reports (it reads no other service's tables). Over aiohttp: httpx cost the
portal about 2 ms of CPU a call (docs/benchmarks.md), a large share of a page.

Calls before anyone is signed in (a sign-in request, opening a link) carry the portal's
client secret; every other call carries the signed-in person's session credential, so
intake decides what they may see and do.
"""

import contextlib
import json as JSON
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn
from urllib.parse import quote, urlencode

import aiohttp

from services.portal.adapters.recent import Recent
from shared.standards import Standard

CURRENT_STANDARD_SECONDS = 60.0
CENTER_ROUNDS_SECONDS = 5.0
MAX_CACHED_SESSIONS = 10_000
ROUND_DATES = ("opens_at", "due_at", "closes_at")
# a file of 10 MiB from the portal's spool to intake and on to object storage
UPLOAD_SECONDS = 120.0


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


@dataclass(frozen=True)
class FileStream:
    """A file intake sends (a CSV or XLSX download, an evidence file), passed on as it
    arrives."""

    content_type: str
    disposition: str
    chunks: AsyncIterator[bytes]
    length: int | None = None
    etag: str | None = None

    @classmethod
    def of(
        cls, response: aiohttp.ClientResponse, content_type: str, disposition: str
    ) -> "FileStream":
        """The body of an answered request, streamed in 64 KiB pieces and released at its
        end; its type and disposition as the server gave them, else these."""

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_chunked(64 * 1024):
                    yield chunk
            finally:
                response.release()

        length = response.headers.get("Content-Length")
        return cls(
            content_type=response.headers.get("Content-Type", content_type),
            disposition=response.headers.get("Content-Disposition", disposition),
            chunks=chunks(),
            length=int(length) if length and length.isdigit() else None,
            etag=response.headers.get("ETag"),
        )


class IntakeClient:
    def __init__(self, client: aiohttp.ClientSession, client_secret: str) -> None:
        self._http = client
        self._secret = client_secret
        self._standards: dict[str, Standard] = {}
        self._current: tuple[str, float] | None = None
        # per session and center: an office reads many centers' rounds
        self._rounds: Recent[tuple[str, str], list[dict[str, Any]]] = Recent(
            CENTER_ROUNDS_SECONDS, MAX_CACHED_SESSIONS
        )

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
        """The center's state in each round, kept a few seconds for the session that asked
        (a person moves from the form to the review to sending in that time); what this
        session sends is seen at once (``submit`` forgets it)."""
        cached = self._rounds.get((token, center_id))
        if cached is not None:
            return cached
        found: list[dict[str, Any]] = await self._call(
            "GET", f"/v1/centers/{center_id}/rounds", token
        )
        self._rounds.put((token, center_id), found)
        return found

    async def center(self, token: str, center_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("GET", f"/v1/centers/{center_id}", token)
        return found

    async def standard(self, token: str, standard_id: str | None = None) -> Standard:
        """A standard by id, or the one reports are made on now (the newest listed, asked
        again after a minute). Definitions do not change under an id and version."""
        if standard_id is None:
            standard_id = await self._current_standard(token)
        cached = self._standards.get(standard_id)
        if cached is None:
            definition = await self._call("GET", f"/v1/standards/{standard_id}", token)
            definition.pop("areas", None)
            cached = self._standards[standard_id] = Standard.model_validate(definition)
        return cached

    async def submission(self, token: str, submission_id: str) -> dict[str, Any]:
        """The submission with its versions (not their reports), times as datetimes."""
        found: dict[str, Any] = await self._call("GET", f"/v1/submissions/{submission_id}", token)
        for version in found["versions"]:
            _times(version)
        return found

    async def version(self, token: str, submission_id: str, number: int) -> dict[str, Any]:
        """One version with its report as it was sent, times as datetimes."""
        path = f"/v1/submissions/{submission_id}/versions/{number}"
        found: dict[str, Any] = await self._call("GET", path, token)
        return _times(found)

    async def submit(self, token: str, report: str, idempotency_key: str) -> dict[str, Any]:
        """Raises Refused for a report intake does not take (closed round, say)."""
        headers = {"Idempotency-Key": idempotency_key, "Content-Type": "application/json"}
        self._rounds.forget_where(lambda key: key[0] == token)
        answer: dict[str, Any] = await self._call(
            "POST", "/v1/submissions", token, content=report.encode(), headers=headers
        )
        return answer

    async def rounds(self, token: str) -> list[dict[str, Any]]:
        """Every round, its dates as datetimes."""
        found: list[dict[str, Any]] = await self._call("GET", "/v1/rounds", token)
        return [_parsed(entry, *ROUND_DATES) for entry in found]

    async def completeness(
        self,
        token: str,
        round_id: str,
        office: str | None = None,
        depth: int | None = None,
        lists: Sequence[str] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> dict[str, Any]:
        """A round's completeness for ``office`` (default: the session's scope) and the
        offices ``depth`` levels below it, with the center ``lists`` asked for (missing,
        late, follow_up, centers) paged by ``limit`` and ``offset``. NotFound outside the
        session's scope."""
        query: dict[str, str] = {"lists": ",".join(lists), "limit": str(limit)}
        query["offset"] = str(offset)
        if office is not None:
            query["office"] = office
        if depth is not None:
            query["depth"] = str(depth)
        found: dict[str, Any] = await self._call(
            "GET", f"/v1/rounds/{round_id}/completeness", token, params=query
        )
        return found

    async def completeness_file(
        self, token: str, round_id: str, office: str, view: str, format: str
    ) -> FileStream:
        """One table of a round's completeness as intake's CSV or XLSX file, all rows;
        read ``chunks`` to the end (it releases the connection)."""
        query = {"office": office, "view": view, "format": format}
        return await self._stream(f"/v1/rounds/{round_id}/completeness", token, query)

    async def office(self, token: str, path: str) -> dict[str, Any]:
        """An office's names, parent and children (NotFound outside the session's scope)."""
        found: dict[str, Any] = await self._call("GET", f"/v1/offices/{path}", token)
        return found

    async def _current_standard(self, token: str) -> str:
        now = time.monotonic()
        if self._current is None or now - self._current[1] > CURRENT_STANDARD_SECONDS:
            listed = await self._call("GET", "/v1/standards", token)
            if not listed:
                raise NotFound("no standard")
            newest = max(listed, key=lambda s: (s["version"], s["id"]))["id"]
            self._current = (newest, now)
        return self._current[0]

    # --- Operators (OPS/PMO): rounds, extensions, exports, the audit log, accounts ---------

    async def round(self, token: str, round_id: str) -> dict[str, Any]:
        """One round, its dates as datetimes."""
        found: dict[str, Any] = await self._call("GET", f"/v1/rounds/{quote(round_id)}", token)
        return _parsed(found, *ROUND_DATES)

    async def change_round(
        self, token: str, round_id: str, dates: dict[str, datetime], reason: str
    ) -> dict[str, Any]:
        """Raises Refused: 409 ``round_closed``, 422 naming the field (``reason``, a date)."""
        body = {**{name: moment.isoformat() for name, moment in dates.items()}, "reason": reason}
        path = f"/v1/rounds/{quote(round_id)}"
        found: dict[str, Any] = await self._call("PATCH", path, token, json=body)
        return found

    async def extensions(self, token: str, round_id: str) -> list[dict[str, Any]]:
        path = f"/v1/rounds/{quote(round_id)}/extensions"
        found: list[dict[str, Any]] = await self._call("GET", path, token)
        return [_parsed(e, "until", "granted_at") for e in found]

    async def grant_extension(
        self, token: str, round_id: str, center_id: str, until: datetime, reason: str
    ) -> dict[str, Any]:
        """Raises Refused 422 naming the field; NotFound for an unknown center (or round)."""
        body = {"center_id": center_id, "until": until.isoformat(), "reason": reason}
        path = f"/v1/rounds/{quote(round_id)}/extensions"
        found: dict[str, Any] = await self._call("POST", path, token, json=body)
        return found

    async def exports(self, token: str, round_id: str) -> dict[str, Any]:
        """The round's exports (oldest first) and the requests for one."""
        path = f"/v1/rounds/{quote(round_id)}/exports"
        found: dict[str, Any] = await self._call("GET", path, token)
        for export in found.get("exports", []):
            _parsed(export, "created_at", "updated_at")
        for request in found.get("requests", []):
            _parsed(request, "requested_at")
        return found

    async def request_export(self, token: str, round_id: str) -> dict[str, Any]:
        path = f"/v1/rounds/{quote(round_id)}/exports"
        found: dict[str, Any] = await self._call("POST", path, token)
        return found

    async def audit(
        self,
        token: str,
        target: str = "",
        actor: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        before: str = "",
        limit: int = 50,
    ) -> list[dict[str, Any]]:
        """Audit entries, newest first; the next page is ``before=<the last entry's id>``."""
        query: dict[str, str] = {"limit": str(limit)}
        for name, value in (("target", target), ("actor", actor), ("before", before)):
            if value:
                query[name] = value
        if since is not None:
            query["since"] = since.isoformat()
        if until is not None:
            query["until"] = until.isoformat()
        found: list[dict[str, Any]] = await self._call(
            "GET", f"/v1/audit?{urlencode(query)}", token
        )
        return [_parsed(entry, "at") for entry in found]

    async def accounts(
        self, token: str, q: str = "", kind: str = "", limit: int = 50, offset: int = 0
    ) -> dict[str, Any]:
        query = {"limit": str(limit), "offset": str(offset)}
        if q:
            query["q"] = q
        if kind:
            query["kind"] = kind
        found: dict[str, Any] = await self._call("GET", f"/v1/accounts?{urlencode(query)}", token)
        return found

    async def import_accounts(self, token: str, content: bytes) -> dict[str, Any]:
        """The accounts file as ``gecc accounts import`` takes it; raises Refused 422 with
        ``errors`` by line and column (nothing imported)."""
        headers = {"Content-Type": "text/csv"}
        found: dict[str, Any] = await self._call(
            "POST", "/v1/accounts/import", token, content=content, headers=headers
        )
        return found

    async def disable_account(self, token: str, email: str, reason: str) -> dict[str, Any]:
        path = f"/v1/accounts/{quote(email, safe='@')}/disable"
        found: dict[str, Any] = await self._call("POST", path, token, json={"reason": reason})
        return found

    # --- Evidence files (spec §10): a center uploads and removes; the center, the offices
    # above it and operators read (intake decides: 404 otherwise) -------------------------

    async def upload_evidence(
        self,
        token: str,
        round_id: str,
        item_code: str,
        name: str,
        body: AsyncIterator[bytes],
        size: int,
    ) -> dict[str, Any]:
        """Stream one file to intake (its bytes as the body, never held whole here). Raises
        Refused: 413 ``file_too_large``/``quota_exceeded``, 415 ``unsupported_type``, 409
        ``too_many_files``/``round_closed``; IntakeUnavailable (503: storage down)."""
        path = f"/v1/rounds/{quote(round_id)}/items/{quote(item_code)}/evidence"
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
        }
        try:
            async with self._http.post(
                path,
                params={"name": name},
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=UPLOAD_SECONDS),
            ) as response:
                status, answer = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise IntakeUnavailable(f"POST {path}: {error!r}") from error
        if status >= 400:
            _raise_for(status, f"POST {path}", answer)
        return _parsed(JSON.loads(answer), "uploaded_at")

    async def evidence_list(
        self, token: str, round_id: str, center_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The files of a center in a round (a center's session: its own)."""
        params = {"center_id": center_id} if center_id else None
        path = f"/v1/rounds/{quote(round_id)}/evidence"
        found = await self._call("GET", path, token, params=params)
        return [_parsed(entry, "uploaded_at") for entry in found["files"]]

    async def evidence_file(self, token: str, file_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("GET", f"/v1/evidence/{quote(file_id)}", token)
        return _parsed(found, "uploaded_at")

    async def evidence_content(self, token: str, file_id: str) -> FileStream:
        """The file's bytes as intake streams them, with its headers (attachment, the
        stored type); read ``chunks`` to the end (it releases the connection)."""
        return await self._stream(f"/v1/evidence/{quote(file_id)}/content", token)

    async def delete_evidence(self, token: str, file_id: str) -> None:
        """Raises Refused 409 ``file_referenced`` when a submitted version lists it."""
        await self._call("DELETE", f"/v1/evidence/{quote(file_id)}", token)

    async def _stream(
        self, path: str, token: str, params: dict[str, str] | None = None
    ) -> FileStream:
        try:
            response = await self._http.get(
                path, params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except (aiohttp.ClientError, TimeoutError) as error:
            raise IntakeUnavailable(f"GET {path}: {error!r}") from error
        if response.status >= 400:
            body = await response.read()
            response.release()
            _raise_for(response.status, path, body)
        return FileStream.of(response, "application/octet-stream", "attachment")

    async def _call(
        self,
        method: str,
        path: str,
        token: str,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Authorization": f"Bearer {token}", **(headers or {})}
        try:
            async with self._http.request(
                method, path, headers=sent, json=json, data=content, params=params
            ) as response:
                status, body = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise IntakeUnavailable(f"{method} {path}: {error!r}") from error
        if status >= 400:
            _raise_for(status, f"{method} {path}", body)
        return JSON.loads(body) if body else None


def _raise_for(status: int, what: str, body: bytes) -> NoReturn:
    if status >= 500:
        raise IntakeUnavailable(f"{what}: {status}")
    if status == 401:
        raise SessionEnded(what)
    if status == 404:
        raise NotFound(what)
    raise Refused(status, _problem(body))


def _times(version: dict[str, Any]) -> dict[str, Any]:
    for name in ("received_at", "scored_at"):
        if version.get(name):
            version[name] = datetime.fromisoformat(version[name])
    return version


def _problem(body: bytes) -> dict[str, Any]:
    try:
        found = JSON.loads(body)
    except ValueError:
        return {"title": body[:200].decode("utf-8", "replace")}
    return found if isinstance(found, dict) else {"title": str(found)}


def _parsed(entry: dict[str, Any], *names: str) -> dict[str, Any]:
    """``entry`` with its timestamps as datetimes (absent or null ones left as they are)."""
    for name in names:
        if entry.get(name):
            entry[name] = datetime.fromisoformat(entry[name])
    return entry
