"""``POST /v1/submissions`` in front of the framework.

Every center calls this route, and FastAPI's routing, dependency solving and middleware
were the largest part of its cost (docs/benchmarks.md). This middleware answers it with the
same code as the FastAPI route (``accept_submission``, ``as_problem``); everything else goes
on to the framework.
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from services.intake.entrypoints.auth import client_address
from services.intake.entrypoints.http import PATH, accept_submission, replay_headers
from services.intake.entrypoints.limits import read_limited_body, refuse_too_large
from services.intake.entrypoints.problems import (
    as_problem,
    note_refusal,
    send_json,
    send_problem,
)


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
        state = scope["app"].state
        client = client_address(scope)
        try:
            answer = await accept_submission(
                state, scope["state"]["principal"], scope["headers"], raw_body, client
            )
        except Exception as error:
            problem = as_problem(error)
            if problem is None:
                raise
            if problem.status == 403:
                note_refusal(state, "forbidden", "POST", PATH, client)
            await send_problem(send, problem)
            return
        await send_json(send, 201, answer.body, "application/json", replay_headers(answer))
