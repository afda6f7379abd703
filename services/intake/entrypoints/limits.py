"""Request limits: body size (413), and paths and query strings no route can take."""

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.intake.entrypoints.problems import NOT_FOUND, Problem, send_problem

TOO_LARGE = {
    "type": "https://gecc.example/problems/body_too_large",
    "title": "The request body is larger than the limit",
    "title_th": "ข้อมูลที่ส่งมามีขนาดใหญ่เกินกำหนด",
    "status": 413,
    "code": "body_too_large",
}


async def read_limited_body(scope: Scope, receive: Receive, max_bytes: int) -> bytes | None:
    """The whole request body, or None as soon as it is known to exceed ``max_bytes``."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > max_bytes:
            return None
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def refuse_too_large(send: Send) -> None:
    body = json.dumps(TOO_LARGE, ensure_ascii=False).encode()
    headers: list[Any] = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuse bodies over ``max_bytes`` with 413, by Content-Length or while reading.

    The body is read here in full (it is small by definition) and replayed to the app, so
    the app never sees a truncated body and the refusal is always a clean 413.

    Paths matching ``streamed`` are passed on untouched: their route reads the body as it
    arrives and enforces its own limit (an evidence file, up to 10 MiB, is never held whole).
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        larger: Mapping[str, int] | None = None,
        streamed: str | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = dict(larger or {})  # paths that take larger bodies (an uploaded file)
        self.streamed = re.compile(streamed) if streamed else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (
            self.streamed is not None and self.streamed.match(scope["path"])
        ):
            await self.app(scope, receive, send)
            return
        limit = self.larger.get(scope["path"], self.max_bytes)
        body = await read_limited_body(scope, receive, limit)
        if body is None:
            await refuse_too_large(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _query_problem(query: bytes) -> str | None:
    try:
        text = unquote_to_bytes(query).decode("utf-8")
    except UnicodeDecodeError:
        return "is not UTF-8 text"
    return "contains a NUL character (U+0000)" if "\x00" in text else None


class RequestGuard:
    """Paths and query strings no route can take: a NUL in the path is a path that does not
    exist (404), a NUL or bytes that are not UTF-8 in the query string are refused (422),
    before any route or the database sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                await send_problem(send, NOT_FOUND)
                return
            reason = _query_problem(scope.get("query_string", b""))
            if reason is not None:
                await send_problem(
                    send,
                    Problem(
                        422,
                        "invalid_query",
                        "The query string is not valid",
                        "พารามิเตอร์ของคำขอไม่ถูกต้อง",
                        [{"field": "(query)", "reason": reason}],
                    ),
                )
                return
        await self.app(scope, receive, send)
