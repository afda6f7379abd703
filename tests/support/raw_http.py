"""HTTP/1.1 requests written byte for byte, for what well-behaved clients refuse to send
(repeated or padded headers, bytes that are not ASCII), and their answers read back."""

import asyncio
import json
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)


async def send(
    url: str,
    method: str,
    path: str,
    headers: list[tuple[str, str | bytes]],
    body: bytes | None = None,
) -> RawResponse:
    """One request on its own connection (``Connection: close``); headers go out exactly as
    given, after Host and, with a body, Content-Length."""
    where = urlsplit(url)
    assert where.hostname is not None and where.port is not None
    lines = [f"{method} {path} HTTP/1.1".encode(), f"Host: {where.netloc}".encode()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}".encode())
    for name, value in headers:
        lines.append(
            name.encode() + b": " + (value if isinstance(value, bytes) else value.encode())
        )
    lines.append(b"Connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    async with asyncio.timeout(30):
        reader, writer = await asyncio.open_connection(where.hostname, where.port)
        sending = asyncio.create_task(_write(writer, head + (body or b"")))
        try:
            raw = await _read_all(reader)
        finally:
            sending.cancel()
            with suppress(asyncio.CancelledError, ConnectionError):
                await sending
            writer.close()
    return parse(raw)


async def _write(writer: asyncio.StreamWriter, data: bytes) -> None:
    # A server may answer (413, say) and close before it read the whole body.
    with suppress(ConnectionError):
        for start in range(0, len(data), 65536):
            writer.write(data[start : start + 65536])
            await writer.drain()


async def _read_all(reader: asyncio.StreamReader) -> bytes:
    """Everything until the server closes; what arrived before a reset counts."""
    received = bytearray()
    with suppress(ConnectionError):
        while chunk := await reader.read(65536):
            received += chunk
    return bytes(received)


def parse(raw: bytes) -> RawResponse:
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        rest = _unchunked(rest)
    return RawResponse(int(status_line.split(" ")[1]), headers, rest)


def _unchunked(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)
