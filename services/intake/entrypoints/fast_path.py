"""``POST /v1/submissions`` in front of the framework.

Every center calls this route, and FastAPI's routing, dependency solving and middleware
were the largest part of its cost (docs/benchmarks.md). This middleware answers it with the
same code as the FastAPI route (``accept_submission``, ``as_problem``); everything else goes
on to the framework.
"""

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from services.intake.entrypoints.http import PATH, accept_submission, replay_headers
from services.intake.entrypoints.limits import read_limited_body, refuse_too_large
from services.intake.entrypoints.problems import PROBLEM, as_problem, problem_body


class SubmissionFastPath:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        raw_body = await read_limited_body(scope, receive, self.max_bytes)
        if raw_body is None:
            await refuse_too_large(send)
            return
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]
        }
        client = scope.get("client")
        media_type = "application/json"
        try:
            answer = await accept_submission(
                scope["app"].state, headers, raw_body, client[0] if client else ""
            )
            status, body, extra = 201, answer.body, replay_headers(answer)
        except Exception as error:
            problem = as_problem(error)
            if problem is None:
                raise
            status, body, extra = problem.status, problem_body(problem), problem.headers or {}
            media_type = PROBLEM
        await respond(send, status, body, media_type, extra)


async def respond(
    send: Send, status: int, body: Any, media_type: str, extra: dict[str, str]
) -> None:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [
        (b"content-type", media_type.encode()),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in extra.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
