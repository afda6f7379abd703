"""Joined writes: what uvicorn writes in one loop turn reaches the socket as one write."""

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.server import ServerState

from shared.service.http_protocol import GuardedHttpToolsProtocol, JoinedWrites


class RecordingTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_write_buffer_size(self) -> int:
        return 0


async def test_writes_of_one_turn_go_out_together_and_in_order() -> None:
    real = RecordingTransport()
    joined = JoinedWrites(real, asyncio.get_running_loop())
    joined.write(b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n")
    joined.write(b"")
    joined.write(b"{}")
    assert real.writes == []
    assert joined.get_write_buffer_size() == len(
        b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}"
    )
    await asyncio.sleep(0)
    assert real.writes == [b"HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n{}"]
    joined.write(b"next")
    await asyncio.sleep(0)
    assert real.writes[1:] == [b"next"]


async def test_close_sends_what_is_pending_first() -> None:
    real = RecordingTransport()
    joined = JoinedWrites(real, asyncio.get_running_loop())
    joined.write(b"last answer")
    joined.close()
    assert real.writes == [b"last answer"] and real.closed
    await asyncio.sleep(0)
    assert real.writes == [b"last answer"]


async def test_an_answer_of_the_services_http_protocol_is_one_write() -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send(
            {"type": "http.response.start", "status": 201, "headers": [(b"content-length", b"11")]}
        )
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    loop = asyncio.get_running_loop()
    config = Config(app, lifespan="off", access_log=False, log_level="warning")
    protocol = GuardedHttpToolsProtocol(config, ServerState(), {}, loop)
    real = RecordingTransport()
    real.get_extra_info = lambda name, default=None: default  # type: ignore[method-assign]
    protocol.connection_made(real)
    protocol.data_received(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}")
    for _ in range(20):  # the request's task, then the turn that flushes
        await asyncio.sleep(0)
    assert len(real.writes) == 1
    assert real.writes[0].startswith(b"HTTP/1.1 201 Created\r\n")
    assert real.writes[0].endswith(b'\r\n\r\n{"ok":true}')
