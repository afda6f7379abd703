"""The services' HTTP protocol (shared/service/http_protocol.py) on a real uvicorn server: slow
clients are cut off, connections are capped, an early answer reaches a client that is
still sending, and what is not HTTP gets a problem, not a plain-text page."""

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

from shared.service.http_protocol import HttpLimits, guarded_protocol
from tests.support import raw_http
from tests.support.polling import eventually
from tests.support.services import free_port

LIMITS = HttpLimits(header_seconds=1.0, body_seconds=1.0, body_min_rate=1000.0, max_connections=60)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/refuse-early":  # answers before reading the body, as a 413 does
        body = b'{"status":413}'
        status, headers = 413, [(b"connection", b"close")]
    else:
        received = b""
        while True:
            message = await receive()
            received += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        if message["type"] == "http.disconnect":
            return
        body, status, headers = json.dumps({"received": len(received)}).encode(), 200, []
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def server() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=guarded_protocol(LIMITS),
        lifespan="off",
        log_level="warning",
    )
    running = uvicorn.Server(config)
    task = asyncio.create_task(running.serve())

    async def started() -> bool:
        return bool(running.started)

    await eventually(started, bool, within=10)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def _open(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = int(url.rsplit(":", 1)[1])
    return await asyncio.open_connection("127.0.0.1", port)


async def _trickle(writer: asyncio.StreamWriter, data: bytes, every: float) -> None:
    with contextlib.suppress(ConnectionError):
        for byte in data:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(every)


async def test_a_head_sent_byte_by_byte_is_cut_off(server: str) -> None:
    reader, writer = await _open(server)
    started = time.monotonic()
    sending = asyncio.create_task(_trickle(writer, b"GET / HTTP/1.1\r\nHost: x\r\n" * 10, 0.2))
    answer = await asyncio.wait_for(reader.read(), 5)
    sending.cancel()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"application/problem+json" in answer
    assert 0.9 < time.monotonic() - started < 2.5


async def test_fifty_idle_connections_are_all_closed(server: str) -> None:
    connections = [await _open(server) for _ in range(50)]
    for _, writer in connections:
        writer.write(b"GET / HTTP/1.1\r\n")  # and nothing more
    answers = await asyncio.wait_for(
        asyncio.gather(*(reader.read() for reader, _ in connections)), 5
    )
    assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers)


async def test_a_body_trickled_below_the_minimum_rate_is_cut_off(server: str) -> None:
    reader, writer = await _open(server)
    writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
    started = time.monotonic()
    sending = asyncio.create_task(_trickle(writer, b"x" * 1000, 0.1))
    try:
        answer = await asyncio.wait_for(reader.read(), 5)
    except ConnectionResetError:  # closed while a byte was still on its way: a reset
        answer = b""
    sending.cancel()
    writer.close()
    assert answer == b""  # closed, nothing answered: the application saw the client go
    assert 0.9 < time.monotonic() - started < 2.5


async def test_a_slow_but_steady_body_is_read_whole(server: str) -> None:
    reader, writer = await _open(server)
    size = 6000
    writer.write(f"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode())
    for _ in range(12):  # 500 bytes every 0.25 s: 2,000 bytes/s, over 3 s in all
        writer.write(b"y" * 500)
        await writer.drain()
        await asyncio.sleep(0.25)
    answer = raw_http.parse(await asyncio.wait_for(reader.readuntil(b"}"), 5))
    writer.close()
    assert (answer.status, answer.json()) == (200, {"received": size})


async def test_connections_beyond_the_cap_are_refused_at_once(server: str) -> None:
    held = [await _open(server) for _ in range(LIMITS.max_connections)]
    await asyncio.sleep(0.1)
    reader, writer = await _open(server)
    answer = raw_http.parse(await asyncio.wait_for(reader.read(), 2))
    writer.close()
    for _, other in held:
        other.close()
    assert answer.status == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["code"] == "too_many_connections"


async def test_an_answer_before_the_body_reaches_a_client_still_sending(server: str) -> None:
    for _ in range(5):
        answer = await raw_http.send(server, "POST", "/refuse-early", [], b"z" * (8 * 1024 * 1024))
        assert answer.status == 413


async def test_what_is_not_http_gets_a_problem(server: str) -> None:
    reader, writer = await _open(server)
    writer.write(b"HELLO THERE\r\n\r\n")
    answer = raw_http.parse(await asyncio.wait_for(reader.read(), 2))
    writer.close()
    assert answer.status == 400
    assert answer.json()["code"] == "invalid_http"
