"""Joined writes: what uvicorn writes in one loop turn reaches the socket as one write."""

import asyncio
from typing import Any

from shared.http_protocol import JoinedWrites


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
