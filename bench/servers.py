"""The two baselines, plain ASGI apps (no framework) served by uvicorn as intake is.

``python -m bench.servers hello --port P``: A, answers 200 ``ok`` to any request.
``python -m bench.servers durable --port P --dsn URL [--notify]``: B, validates the body with
``SubmissionBody.model_validate_json`` and inserts a submission row and an outbox row in
one transaction (``bench_scratch`` schema, see ``bench.fixtures``), then answers 201; with
``--notify`` it also calls ``pg_notify`` in that transaction, as intake's outbox does; with
``--padding N`` it makes N more trivial round trips, so that it talks to PostgreSQL as often
as intake does (B makes 5, counting the pool's reset query on release) while doing no more
work.

uvicorn is started with the same arguments as ``shared.service.process.run_service``.
"""

import argparse
import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import uvicorn
from pydantic import ValidationError

from shared.submission import SubmissionBody

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

POOL_MAX = 20  # intake's db_pool_max
INSERT_SUBMISSION = (
    "INSERT INTO bench_scratch.submissions (id, round_id, body) VALUES ($1, $2, $3::jsonb)"
)
INSERT_OUTBOX = (
    "INSERT INTO bench_scratch.outbox (event_id, topic, message_key, payload)"
    " VALUES ($1, $2, $3, $4)"
)


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def redirect(send: Send, location: str) -> None:
    headers = [(b"location", location.encode()), (b"content-length", b"0")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def lifespan(
    receive: Receive,
    send: Send,
    startup: Callable[[], Awaitable[None]] | None = None,
    shutdown: Callable[[], Awaitable[None]] | None = None,
) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if startup is not None:
                await startup()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if shutdown is not None:
                await shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def hello(scope: Scope, receive: Receive, send: Send) -> None:
    """Baseline A: 200 ``ok``, nothing else."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    await read_body(receive)
    await respond(send, 200, b"ok", b"text/plain")


class DurableWrite:
    """Baseline B: validate, two inserts in one transaction (durable commit), 201."""

    def __init__(self, dsn: str, notify: bool = False, padding: int = 0) -> None:
        self._dsn = dsn
        self._notify = notify
        self._padding = padding
        self._pool: asyncpg.Pool | None = None

    async def _start(self) -> None:
        self._pool = await asyncpg.create_pool(self._dsn, min_size=1, max_size=POOL_MAX)

    async def _stop(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send, self._start, self._stop)
            return
        raw = await read_body(receive)
        if scope["method"] != "POST":
            await respond(send, 200, b"ok", b"text/plain")
            return
        try:
            body = SubmissionBody.model_validate_json(raw)
        except ValidationError as error:
            await respond(send, 422, error.json().encode(), b"application/json")
            return
        submission_id = await self._store(body, raw)
        answer = json.dumps({"submission_id": str(submission_id)}).encode()
        await respond(send, 201, answer, b"application/json")

    async def _store(self, body: SubmissionBody, raw: bytes) -> UUID:
        assert self._pool is not None
        if self._padding:
            async with self._pool.acquire() as conn:
                await conn.execute("SELECT 1")
        submission_id = uuid4()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(INSERT_SUBMISSION, submission_id, body.round_id, raw.decode())
            await conn.execute(INSERT_OUTBOX, uuid4(), "bench", str(submission_id), raw)
            if self._notify:
                await conn.execute("SELECT pg_notify('bench_outbox', '')")
            for _ in range(self._padding - 2):
                await conn.execute("SELECT 1")
        return submission_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers")
    parser.add_argument("app", choices=["hello", "durable"])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", help="database of the durable baseline")
    parser.add_argument(
        "--notify", action="store_true", help="durable: also pg_notify in the transaction"
    )
    parser.add_argument(
        "--padding",
        type=int,
        default=0,
        help="durable: N (0 or at least 2) more round trips: SELECT 1 on its own pooled"
        " connection first, as authentication does (2 with the pool's reset), then N - 2"
        " SELECT 1 inside the transaction",
    )
    args = parser.parse_args(argv)
    if args.app == "durable" and not args.dsn:
        parser.error("durable needs --dsn")
    if args.padding == 1 or args.padding < 0:
        parser.error("--padding is 0 or at least 2")
    app = hello if args.app == "hello" else DurableWrite(args.dsn, args.notify, args.padding)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
