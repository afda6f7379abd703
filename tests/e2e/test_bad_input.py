"""Bad input against intake as it runs (its own process, uvicorn, the real database and
broker), as an attacker or a careless client would send it.

Each case is one request with the status it must get. Every refusal is
``application/problem+json``, nothing answers 5xx, and a refused request stores nothing:
intake's tables are the same before and after it.
"""

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.support import raw_http
from tests.support.infrastructure import Infrastructure
from tests.support.intake_process import ROUND, UNLIMITED, intake_process
from tests.support.samples import standard, submission_body

# What a refused request must not change: intake's tables that keep what requests did.
SNAPSHOT = """
SELECT (SELECT count(*) FROM submissions) AS submissions,
       (SELECT count(*) FROM submission_versions) AS versions,
       (SELECT count(*) FROM idempotency_keys) AS keys,
       (SELECT count(*) FROM audit_log) AS audit,
       (SELECT count(*) FROM extensions) AS extensions,
       (SELECT count(*) FROM export_requests) AS export_requests,
       (SELECT count(*) FROM accounts) AS accounts,
       (SELECT count(*) FROM memberships) AS memberships,
       (SELECT count(*) FROM sign_in_requests) AS sign_in_requests,
       (SELECT count(*) FROM sign_in_codes) AS sign_in_codes,
       (SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL) AS open_credentials,
       (SELECT count(*) FROM evidence_files) AS evidence_files,
       (SELECT count(*) FROM version_evidence) AS version_evidence,
       (SELECT md5(string_agg(id || opens_at || due_at || closes_at, ',' ORDER BY id))
        FROM rounds) AS round_dates
"""


@dataclass(frozen=True)
class Running:
    url: str
    tokens: dict[str, str]
    database: str
    submission_id: str


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    # Header values may name a token as {a}, {b}, {c}, {bma}, {operator}, {portal}.
    headers: list[tuple[str, str | bytes]] = field(default_factory=list)
    body: bytes | None = None
    # A case whose success is expected stores something; only refusals are checked.
    stores: bool = False

    def __str__(self) -> str:
        return self.name

    def with_headers(self, headers: list[tuple[str, str | bytes]]) -> "Case":
        return replace(self, headers=headers)


def body_of(mutate: Callable[[dict[str, Any]], Any] | None = None) -> bytes:
    body = submission_body(ROUND)
    if mutate is not None:
        mutate(body)
    return json.dumps(body, ensure_ascii=False).encode()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def bearer(who: str) -> tuple[str, str]:
    return ("Authorization", f"Bearer {{{who}}}")


KEY = ("Idempotency-Key", "{fresh}")


def submit(name: str, status: int, body: bytes, *headers: tuple[str, str | bytes]) -> Case:
    return Case(name, "POST", "/v1/submissions", status, [bearer("a"), KEY, *headers], body)


# -- the cases -------------------------------------------------------------------------------

ROUTES_READ = [
    ("GET", "/v1/rounds"),
    ("GET", f"/v1/rounds/{ROUND}"),
    ("GET", f"/v1/rounds/{ROUND}/submission"),
    ("GET", f"/v1/rounds/{ROUND}/completeness"),
    ("GET", f"/v1/rounds/{ROUND}/extensions"),
    ("GET", f"/v1/rounds/{ROUND}/exports"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/submissions/{submission_id}"),
    ("POST", "/v1/submissions"),
    ("PATCH", f"/v1/rounds/{ROUND}"),
    ("POST", f"/v1/rounds/{ROUND}/extensions"),
    ("POST", f"/v1/rounds/{ROUND}/exports"),
    ("GET", "/v1/me"),
    ("GET", "/v1/standards"),
    ("GET", "/v1/standards/gecc-maintenance-2570"),
    ("GET", "/v1/centers/GECC-0001"),
    ("GET", "/v1/centers/GECC-0001/rounds"),
    ("POST", "/v1/sign-in-requests"),
    ("POST", "/v1/sessions"),
    ("DELETE", "/v1/sessions/current"),
]
PORTAL_ROUTES = [("POST", "/v1/sign-in-requests"), ("POST", "/v1/sessions")]

BAD_CREDENTIALS: list[tuple[str, list[tuple[str, str | bytes]], int]] = [
    ("no Authorization", [], 401),
    ("empty Authorization", [("Authorization", "")], 401),
    ("scheme only", [("Authorization", "Bearer")], 401),
    ("scheme and a space", [("Authorization", "Bearer ")], 401),
    ("Basic scheme", [("Authorization", "Basic dXNlcjpwYXNz")], 401),
    ("unknown token", [("Authorization", "Bearer gecc_center_unknown")], 401),
    ("token and more", [("Authorization", "Bearer {a} extra")], 401),
    ("non-ASCII token", [("Authorization", "Bearer ทดสอบ".encode())], 401),
    ("latin-1 token", [("Authorization", b"Bearer \xe9\xff")], 401),
    ("very long token", [("Authorization", "Bearer " + "x" * 8000)], 401),
    ("two Authorization headers", [bearer("operator"), bearer("operator")], 400),
    ("two different Authorization headers", [bearer("operator"), bearer("a")], 400),
]

credential_cases = [
    Case(f"{method} {path}: {what}", method, path, status, [*headers, KEY], b"{}")
    for method, path in ROUTES_READ
    for what, headers, status in BAD_CREDENTIALS
]

# The same spelling of credentials works on every route (the scheme in any case, any run
# of spaces before the token).
spacing_cases = [
    Case(
        f"GET {path}: {what}",
        "GET",
        path,
        200,
        [("Authorization", spelled)],
    )
    for path in (f"/v1/rounds/{ROUND}", f"/v1/rounds/{ROUND}/completeness", "/v1/audit")
    for what, spelled in (
        ("lower-case scheme", "bearer {operator}"),
        ("upper-case scheme", "BEARER {operator}"),
        ("two spaces", "Bearer  {operator}"),
        ("a tab", "Bearer\t{operator}"),
        ("trailing space", "Bearer {operator} "),
    )
]
spacing_cases += [
    submit("submission: lower-case scheme", 201, body_of()).with_headers(
        [("Authorization", "bearer {a}"), KEY]
    ),
    submit("submission: two spaces", 201, body_of()).with_headers(
        [("Authorization", "Bearer  {a}"), KEY]
    ),
]


def _drop_question(body: dict[str, Any]) -> None:
    body["satisfaction"]["questions"].pop()


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets ``value`` at a dotted path (numbers index lists)."""

    def mutate(body: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = body
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(body: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = body
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[int(last) if last.isdigit() else last]

    return mutate


FIRST_ITEM = standard().items[0].code
body_cases = [
    submit("not JSON", 422, b"{not json"),
    submit("empty body", 422, b""),
    submit("JSON null", 422, b"null"),
    submit("JSON array", 422, b"[]"),
    submit("JSON string", 422, b'"report"'),
    submit("non-UTF-8 body", 422, b'{"round_id": "\xff\xfe"}'),
    submit("UTF-16 body", 422, json.dumps(submission_body(ROUND)).encode("utf-16")),
    submit("deeply nested", 422, b"[" * 5000 + b"]" * 5000),
    submit("huge number", 422, body_of(_set("satisfaction.respondents", 10**400))),
    submit("body over 1 MiB", 413, b'{"x": "' + b"a" * (1024 * 1024 + 10) + b'"}'),
    submit("NUL in evidence", 422, body_of(_set("checklist.items.0.evidence", "a\u0000b"))),
    submit("only NUL in evidence", 422, body_of(_set("checklist.items.3.evidence", "\u0000"))),
    submit("evidence too long", 422, body_of(_set("checklist.items.0.evidence", "ก" * 2001))),
    submit("evidence a number", 422, body_of(_set("checklist.items.0.evidence", 5))),
    submit("met as a string", 422, body_of(_set("checklist.items.0.met", "true"))),
    submit("met as 1", 422, body_of(_set("checklist.items.0.met", 1))),
    submit("count as string", 422, body_of(_set("satisfaction.questions.0.counts.0", "1"))),
    submit("count as float", 422, body_of(_set("satisfaction.questions.0.counts.0", 1.0))),
    submit("count negative", 422, body_of(_set("satisfaction.questions.0.counts.0", -1))),
    submit("count absurd", 422, body_of(_set("satisfaction.questions.0.counts.0", 10**9))),
    submit("counts of four", 422, body_of(_set("satisfaction.questions.0.counts", [1, 2, 3, 4]))),
    submit("counts of six", 422, body_of(_set("satisfaction.questions.0.counts", [1] * 6))),
    submit("counts null", 422, body_of(_set("satisfaction.questions.0.counts", None))),
    submit(
        "no answers to a question", 422, body_of(_set("satisfaction.questions.0.counts", [0] * 5))
    ),
    submit(
        "answers exceed respondents",
        422,
        body_of(_set("satisfaction.questions.1.counts", [500, 0, 0, 0, 0])),
    ),
    submit("respondents zero", 422, body_of(_set("satisfaction.respondents", 0))),
    submit("respondents negative", 422, body_of(_set("satisfaction.respondents", -5))),
    submit("respondents as string", 422, body_of(_set("satisfaction.respondents", "412"))),
    submit("question missing", 422, body_of(_drop_question)),
    submit("question code unknown", 422, body_of(_set("satisfaction.questions.0.code", "S99"))),
    submit("question code lower-case", 422, body_of(_set("satisfaction.questions.0.code", "s1"))),
    submit(
        "question code with NUL", 422, body_of(_set("satisfaction.questions.0.code", "S\u0000"))
    ),
    submit(
        "question repeated",
        422,
        body_of(lambda b: b["satisfaction"]["questions"].append(b["satisfaction"]["questions"][0])),
    ),
    submit("no questions", 422, body_of(_set("satisfaction.questions", []))),
    submit("item missing", 422, body_of(lambda b: b["checklist"]["items"].pop())),
    submit("item code unknown", 422, body_of(_set("checklist.items.0.code", "Z99"))),
    submit(
        "item repeated",
        422,
        body_of(lambda b: b["checklist"]["items"].append(b["checklist"]["items"][0])),
    ),
    submit("no items", 422, body_of(_set("checklist.items", []))),
    submit("unknown standard", 422, body_of(_set("checklist.standard", "gecc-unknown-9999"))),
    submit("standard with NUL", 422, body_of(_set("checklist.standard", "gecc\u0000"))),
    submit("standard missing", 422, body_of(_delete("checklist.standard"))),
    submit("round id malformed", 422, body_of(_set("round_id", "2570-H1"))),
    submit("round id with NUL", 422, body_of(_set("round_id", "FY2570-H1\u0000"))),
    submit("round id unknown", 404, body_of(_set("round_id", "FY2599-H1"))),
    submit("round id missing", 422, body_of(_delete("round_id"))),
    submit("satisfaction missing", 422, body_of(_delete("satisfaction"))),
    submit("checklist missing", 422, body_of(_delete("checklist"))),
    submit("unknown field at the top", 422, body_of(_set("center_id", "GECC-0002"))),
    submit("unknown field in satisfaction", 422, body_of(_set("satisfaction.mean", 4.5))),
    submit("unknown field in a question", 422, body_of(_set("satisfaction.questions.0.x", 1))),
    submit("unknown field in checklist", 422, body_of(_set("checklist.score", 100))),
    submit("unknown field in an item", 422, body_of(_set("checklist.items.0.attachments", []))),
    submit(
        "NUL in an unknown field's name",
        422,
        body_of(_set("checklist.items.0.\u0000", "x")),
    ),
    submit("too many questions", 422, body_of(_set("satisfaction.questions", [{}] * 101))),
    submit("too many items", 422, body_of(_set("checklist.items", [{}] * 301))),
    submit("no Idempotency-Key", 400, body_of()).with_headers([bearer("a")]),
    submit("empty Idempotency-Key", 400, body_of()).with_headers(
        [bearer("a"), ("Idempotency-Key", "")]
    ),
    submit("Idempotency-Key too long", 422, body_of()).with_headers(
        [bearer("a"), ("Idempotency-Key", "k" * 256)]
    ),
    submit("two Idempotency-Keys", 400, body_of()).with_headers(
        [bearer("a"), ("Idempotency-Key", "one"), ("Idempotency-Key", "two")]
    ),
    submit("Idempotency-Key reused with another body", 422, body_of()).with_headers(
        [bearer("a"), ("Idempotency-Key", "{used}")]
    ),
    submit("an office submits", 403, body_of()).with_headers([bearer("bma"), KEY]),
    submit("an operator submits", 403, body_of()).with_headers([bearer("operator"), KEY]),
]

_PATCH = f"/v1/rounds/{ROUND}"
_EXT = f"/v1/rounds/{ROUND}/extensions"


def operator_call(
    name: str, method: str, path: str, status: int, body: Any, who: str = "operator"
) -> Case:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return Case(
        name, method, path, status, [bearer(who), ("Content-Type", "application/json")], raw
    )


def _in_days(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


REASON = "ขยายเวลาตามมติที่ประชุม"


def grant(**changes: Any) -> dict[str, Any]:
    return {"center_id": "GECC-0001", "until": _in_days(30), "reason": "น้ำท่วมสำนักงาน", **changes}


operator_cases = [
    operator_call(
        "dates: year 1 at +14:00",
        "PATCH",
        _PATCH,
        422,
        {"opens_at": "0001-01-01T00:00:00+14:00", "reason": REASON},
    ),
    operator_call(
        "dates: year 9999 at -14:00",
        "PATCH",
        _PATCH,
        422,
        {"closes_at": "9999-12-31T23:59:59-14:00", "reason": REASON},
    ),
    operator_call(
        "dates: naive", "PATCH", _PATCH, 422, {"due_at": "2027-04-30T23:59:59", "reason": REASON}
    ),
    operator_call(
        "dates: not a date", "PATCH", _PATCH, 422, {"due_at": "tomorrow", "reason": REASON}
    ),
    operator_call(
        "dates: a number", "PATCH", _PATCH, 422, {"due_at": 1800000000, "reason": REASON}
    ),
    operator_call(
        "dates: NUL", "PATCH", _PATCH, 422, {"due_at": "2027-04-30\u0000", "reason": REASON}
    ),
    operator_call(
        "dates: unknown field", "PATCH", _PATCH, 422, {"starts_at": _in_days(1), "reason": REASON}
    ),
    operator_call(
        "dates: due after close",
        "PATCH",
        _PATCH,
        422,
        {"due_at": _in_days(40), "closes_at": _in_days(20), "reason": REASON},
    ),
    operator_call(
        "dates: opens before the period begins",
        "PATCH",
        _PATCH,
        422,
        {"opens_at": "2026-09-01T00:00:00+07:00", "reason": REASON},
    ),
    operator_call("dates: not JSON", "PATCH", _PATCH, 422, b"{"),
    operator_call("dates: non-UTF-8", "PATCH", _PATCH, 422, b'{"due_at": "\xff"}'),
    operator_call("dates: array", "PATCH", _PATCH, 422, []),
    operator_call("dates: no reason", "PATCH", _PATCH, 422, {"due_at": _in_days(3)}),
    operator_call(
        "dates: reason too short", "PATCH", _PATCH, 422, {"due_at": _in_days(3), "reason": "x"}
    ),
    operator_call(
        "dates: unknown round",
        "PATCH",
        "/v1/rounds/FY2599-H1",
        404,
        {"due_at": _in_days(3), "reason": REASON},
    ),
    operator_call(
        "dates: by a center", "PATCH", _PATCH, 403, {"due_at": _in_days(3), "reason": REASON}, "a"
    ),
    operator_call(
        "dates: by an office",
        "PATCH",
        _PATCH,
        403,
        {"due_at": _in_days(3), "reason": REASON},
        "bma",
    ),
    operator_call("extension: ends in the past", "POST", _EXT, 422, grant(until=_in_days(-1))),
    operator_call("extension: year 1", "POST", _EXT, 422, grant(until="0001-01-01T00:00:00+14:00")),
    operator_call("extension: naive until", "POST", _EXT, 422, grant(until="2027-06-01T00:00:00")),
    operator_call("extension: reason too short", "POST", _EXT, 422, grant(reason="ok")),
    operator_call("extension: reason with NUL", "POST", _EXT, 422, grant(reason="น้ำท่วม\u0000")),
    operator_call("extension: reason too long", "POST", _EXT, 422, grant(reason="ก" * 2001)),
    operator_call("extension: center with NUL", "POST", _EXT, 422, grant(center_id="GECC\u0000")),
    operator_call("extension: center unknown", "POST", _EXT, 404, grant(center_id="GECC-9999")),
    operator_call("extension: center too long", "POST", _EXT, 422, grant(center_id="G" * 33)),
    operator_call(
        "extension: center missing",
        "POST",
        _EXT,
        422,
        {"until": _in_days(30), "reason": "น้ำท่วมสำนักงาน"},
    ),
    operator_call("extension: unknown field", "POST", _EXT, 422, grant(note="x")),
    operator_call(
        "extension: unknown round", "POST", "/v1/rounds/FY2599-H1/extensions", 404, grant()
    ),
    operator_call("extension: by a center", "POST", _EXT, 403, grant(), "a"),
    operator_call("extension: by an office", "POST", _EXT, 403, grant(), "bma"),
    operator_call("export: unknown round", "POST", "/v1/rounds/FY2599-H1/exports", 404, b""),
    operator_call("export: by a center", "POST", f"/v1/rounds/{ROUND}/exports", 403, b"", "a"),
    operator_call("export: by an office", "POST", f"/v1/rounds/{ROUND}/exports", 403, b"", "bma"),
]


# The portal's credential is good for signing in only; signing in is for it only, and only a
# session signs out.
credential_kind_cases = [
    Case(f"{method} {path}: the portal's credential", method, path, 403, [bearer("portal")])
    for method, path in ROUTES_READ
    if (method, path) not in PORTAL_ROUTES
]
credential_kind_cases += [
    Case(f"{method} {path}: {who}'s token", method, path, 403, [bearer(who)], b"{}")
    for method, path in [*PORTAL_ROUTES, ("DELETE", "/v1/sessions/current")]
    for who in ("a", "bma", "operator")
]


def portal_call(name: str, path: str, status: int, body: Any) -> Case:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    return Case(
        name, "POST", path, status, [bearer("portal"), ("Content-Type", "application/json")], raw
    )


def ask(**changes: Any) -> dict[str, Any]:
    return {"email": "somchai@bma.go.th", "locale": "th", "client": "203.0.113.5", **changes}


def session(**changes: Any) -> dict[str, Any]:
    return {"code": "a-code-nobody-was-sent", "scope": None, "client": "203.0.113.5", **changes}


_ASK, _SESSION = "/v1/sign-in-requests", "/v1/sessions"
sign_in_cases = [
    portal_call("sign-in: not JSON", _ASK, 422, b"{"),
    portal_call("sign-in: empty body", _ASK, 422, b""),
    portal_call("sign-in: array", _ASK, 422, []),
    portal_call("sign-in: email missing", _ASK, 422, {"locale": "th", "client": "x"}),
    portal_call("sign-in: email malformed", _ASK, 422, ask(email="somchai at bma")),
    portal_call("sign-in: email with a name", _ASK, 422, ask(email="S <s@bma.go.th>")),
    portal_call("sign-in: email with NUL", _ASK, 422, ask(email="s\u0000@bma.go.th")),
    portal_call("sign-in: email too long", _ASK, 422, ask(email="s" * 400 + "@bma.go.th")),
    portal_call("sign-in: email a number", _ASK, 422, ask(email=5)),
    portal_call("sign-in: email .local", _ASK, 422, ask(email="s@bma.local")),
    portal_call("sign-in: locale unknown", _ASK, 422, ask(locale="fr")),
    portal_call("sign-in: client too long", _ASK, 422, ask(client="c" * 201)),
    portal_call("sign-in: client missing", _ASK, 422, {"email": "s@bma.go.th", "locale": "th"}),
    portal_call("sign-in: unknown field", _ASK, 422, ask(center_id="GECC-0001")),
    portal_call("session: not JSON", _SESSION, 422, b"{"),
    portal_call("session: code missing", _SESSION, 422, {"client": "x"}),
    portal_call("session: code empty", _SESSION, 422, session(code="")),
    portal_call("session: code a number", _SESSION, 422, session(code=5)),
    portal_call("session: code too long", _SESSION, 422, session(code="c" * 201)),
    portal_call("session: code with NUL", _SESSION, 422, session(code="c\u0000")),
    portal_call("session: scope malformed", _SESSION, 422, session(scope="office:BMA")),
    portal_call("session: scope a number", _SESSION, 422, session(scope=5)),
    portal_call("session: scope too long", _SESSION, 422, session(scope="office:PMO/" + "A" * 400)),
    portal_call("session: unknown field", _SESSION, 422, session(email="s@bma.go.th")),
    portal_call("session: unknown code", _SESSION, 410, session()),
    portal_call("session: unknown code, a scope", _SESSION, 410, session(scope="operators")),
]


def read(name: str, path: str, status: int, who: str = "operator") -> Case:
    return Case(name, "GET", path, status, [bearer(who)])


path_cases = [
    read("unknown path under /v1", "/v1/nothing-here", 404),
    read("unknown path", "/nothing-here", 404),
    read("unknown path with NUL", "/v1/%00", 404),
    read("path: round id ending in NUL", "/v1/rounds/FY2570-H1%00", 404),
    read("round id only NUL", "/v1/rounds/%00", 404),
    read("round id with NUL, completeness", "/v1/rounds/%00/completeness", 404),
    read("round id with NUL, extensions", "/v1/rounds/%00/extensions", 404),
    read("round id with NUL, exports", "/v1/rounds/%00/exports", 404),
    read("round id with NUL, own submission", "/v1/rounds/%00/submission", 404, "a"),
    read("round id not UTF-8", "/v1/rounds/%FF%FE", 404),
    read("round id very long", "/v1/rounds/" + "F" * 5000, 404),
    read("round unknown", "/v1/rounds/FY2599-H1", 404),
    read("submission id not a UUID", "/v1/submissions/not-a-uuid", 422),
    read("submission id with NUL", "/v1/submissions/%00", 404),
    read("submission unknown", "/v1/submissions/00000000-0000-0000-0000-000000000000", 404),
    read("another center's submission", "/v1/submissions/{submission_id}", 404, "b"),
    read("another subtree's submission", "/v1/submissions/{submission_id}", 200, "bma"),
    read("own submission unknown round", "/v1/rounds/FY2599-H1/submission", 404, "a"),
    read("own submission as an operator", f"/v1/rounds/{ROUND}/submission", 403),
    read("completeness: format unknown", f"/v1/rounds/{ROUND}/completeness?format=xls", 422),
    read("completeness: format NUL", f"/v1/rounds/{ROUND}/completeness?format=%00", 422),
    read("completeness: view unknown", f"/v1/rounds/{ROUND}/completeness?view=all", 422),
    read("completeness: NUL in a query name", f"/v1/rounds/{ROUND}/completeness?%00=1", 422),
    read("completeness: by a center", f"/v1/rounds/{ROUND}/completeness", 403, "a"),
    read("completeness: unknown round", "/v1/rounds/FY2599-H1/completeness", 404),
    read("completeness: query not UTF-8", f"/v1/rounds/{ROUND}/completeness?view=%FF", 422),
    read("audit: target with NUL", "/v1/audit?target=round%00", 422),
    read("audit: target too long", "/v1/audit?target=" + "r" * 201, 422),
    read("audit: limit zero", "/v1/audit?limit=0", 422),
    read("audit: limit huge", "/v1/audit?limit=100000000000000000000", 422),
    read("audit: limit a word", "/v1/audit?limit=many", 422),
    read("audit: by a center", "/v1/audit", 403, "a"),
    read("audit: by an office", "/v1/audit", 403, "bma"),
    read("exports: by an office", f"/v1/rounds/{ROUND}/exports", 403, "bma"),
    read("extensions: by a center", f"/v1/rounds/{ROUND}/extensions", 403, "a"),
    read("center unknown", "/v1/centers/GECC-9999", 404),
    read("center with NUL", "/v1/centers/%00", 404),
    read("center very long", "/v1/centers/" + "G" * 5000, 404),
    read("another center", "/v1/centers/GECC-0002", 404, "a"),
    read("another center's rounds", "/v1/centers/GECC-0002/rounds", 404, "a"),
    read("a center of another subtree", "/v1/centers/GECC-0003", 404, "bma"),
    read("the rounds of another subtree's center", "/v1/centers/GECC-0003/rounds", 404, "bma"),
    read("center rounds unknown", "/v1/centers/GECC-9999/rounds", 404),
    read("standard unknown", "/v1/standards/nope-1", 404),
    read("standard id with NUL", "/v1/standards/%00", 404),
    Case("DELETE a round", "DELETE", f"/v1/rounds/{ROUND}", 405, [bearer("operator")]),
    Case("PUT a submission", "PUT", "/v1/submissions", 405, [bearer("a")]),
    Case("GET the submissions list", "GET", "/v1/submissions", 405, [bearer("a")]),
]

_UPLOAD = f"/v1/rounds/{ROUND}/items/{FIRST_ITEM}/evidence?name=photo.png"
_NO_FILE = "/v1/evidence/00000000-0000-0000-0000-000000000000"


def upload(name: str, status: int, body: bytes | None, who: str = "a", path: str = _UPLOAD) -> Case:
    return Case(name, "POST", path, status, [bearer(who)], body)


# Refused before a byte is stored (object storage need not even be there).
evidence_cases = [
    upload("evidence: HTML named .png", 415, b"<html><script>alert(1)</script></html>"),
    upload("evidence: SVG", 415, b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>"),
    upload("evidence: a ZIP", 415, b"PK\x03\x04" + b"\x00" * 100),
    upload("evidence: RIFF but WAVE", 415, b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 50),
    upload("evidence: empty", 415, b""),
    upload("evidence: no Content-Length", 411, None),
    upload("evidence: by an office", 403, b"%PDF-1.7", "bma"),
    upload("evidence: by an operator", 403, b"%PDF-1.7", "operator"),
    upload(
        "evidence: unknown item",
        422,
        b"%PDF-1.7",
        path=f"/v1/rounds/{ROUND}/items/NOPE/evidence",
    ),
    upload(
        "evidence: unknown round",
        404,
        b"%PDF-1.7",
        path=f"/v1/rounds/FY2599-H1/items/{FIRST_ITEM}/evidence",
    ),
    upload("evidence: name too long", 422, b"%PDF-1.7", path=_UPLOAD + "x" * 900),
    Case(
        "evidence: Content-Length over 10 MiB",
        "POST",
        _UPLOAD,
        413,
        [bearer("a"), ("Content-Length", str(11 * 1024 * 1024))],
    ),
    read("evidence: file id not a UUID", "/v1/evidence/not-a-uuid", 422),
    read("evidence: unknown file", _NO_FILE, 404),
    read("evidence: unknown file's content", _NO_FILE + "/content", 404, "a"),
    read("evidence: office list without a center", f"/v1/rounds/{ROUND}/evidence", 422, "bma"),
    read(
        "evidence: another subtree's list",
        f"/v1/rounds/{ROUND}/evidence?center_id=GECC-0003",
        404,
        "bma",
    ),
    read(
        "evidence: another center's list",
        f"/v1/rounds/{ROUND}/evidence?center_id=GECC-0002",
        404,
        "a",
    ),
    read("evidence: list of an unknown round", "/v1/rounds/FY2599-H1/evidence", 404, "a"),
    Case("evidence: delete unknown", "DELETE", _NO_FILE, 404, [bearer("a")]),
    Case("evidence: delete by an office", "DELETE", _NO_FILE, 403, [bearer("bma")]),
    submit(
        "files: an id no file has",
        422,
        body_of(_set("checklist.items.0.files", ["00000000-0000-0000-0000-000000000000"])),
    ),
    submit("files: not a UUID", 422, body_of(_set("checklist.items.0.files", ["photo.png"]))),
    submit(
        "files: the same twice",
        422,
        body_of(_set("checklist.items.0.files", ["00000000-0000-0000-0000-000000000001"] * 2)),
    ),
    submit(
        "files: 21 for one item",
        422,
        body_of(
            _set(
                "checklist.items.0.files", [f"00000000-0000-0000-0000-{n:012d}" for n in range(21)]
            )
        ),
    ),
]

CASES: list[Case] = [
    *credential_cases,
    *spacing_cases,
    *body_cases,
    *operator_cases,
    *credential_kind_cases,
    *sign_in_cases,
    *path_cases,
    *evidence_cases,
]


def test_the_suite_is_large() -> None:
    assert len(CASES) >= 200
    assert len({case.name for case in CASES}) == len(CASES)


# -- running them ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def running(
    infrastructure: Infrastructure, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Running]:
    logs: Path = tmp_path_factory.mktemp("bad-input")
    async with intake_process(infrastructure, logs, UNLIMITED) as intake:
        async with httpx.AsyncClient(base_url=intake.url) as client:
            first = await client.post(
                "/v1/submissions",
                json=submission_body(ROUND),
                headers={
                    "Authorization": f"Bearer {intake.tokens['a']}",
                    "Idempotency-Key": "used",
                },
            )
        assert first.status_code == 201, first.text
        tokens = {**intake.tokens, "used": "used"}
        yield Running(intake.url, tokens, intake.database, first.json()["submission_id"])


def _filled(value: str | bytes, running: Running, fresh: Iterator[int]) -> str | bytes:
    if isinstance(value, bytes):
        return value
    names = {**running.tokens, "submission_id": running.submission_id}
    if "{fresh}" in value:
        names["fresh"] = f"suite-{next(fresh)}"
    return value.format(**names)


_fresh = iter(range(10**9))


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_bad_input(case: Case, running: Running) -> None:
    headers = [(name, _filled(value, running, _fresh)) for name, value in case.headers]
    path = str(_filled(case.path, running, _fresh))
    before = await _snapshot(running.database)
    response = await raw_http.send(running.url, case.method, path, headers, case.body)
    assert response.status < 500, f"{case}: {response.status} {response.text[:300]}"
    assert response.status == case.status, (
        f"{case}: expected {case.status}, got {response.status} {response.text[:300]}"
    )
    if response.status >= 400:
        assert response.headers["content-type"] == "application/problem+json", response.text
        problem = response.json()
        assert problem["status"] == response.status
        assert problem["code"] and problem["title"] and problem["title_th"]
        assert await _snapshot(running.database) == before, f"{case} changed intake's tables"


async def _snapshot(database: str) -> dict[str, Any]:
    conn = await asyncpg.connect(database)
    try:
        row = await conn.fetchrow(SNAPSHOT)
    finally:
        await conn.close()
    assert row is not None
    return dict(row)
