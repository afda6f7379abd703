"""The services' HTTP/1.1 protocol: uvicorn's httptools protocol with an answer's writes
joined into one ``send``, and limits on what a client may hold.

Limits (``HttpLimits``, from each service's settings): a request's head must arrive within
``header_seconds`` of its first byte (of the connection, for the first request); its body
within ``body_seconds`` plus one second for every ``body_min_rate`` bytes received, so a
client trickling bytes cannot hold a connection for ever; a slow client gets 408, a
connection beyond ``max_connections`` 503 at once. When an answer goes out before the
request's body was read (413, say), the connection is closed gracefully: our side is shut
and what the client still sends is read and dropped for ``linger_seconds``, so that the
client reads the answer instead of a reset. Errors are ``application/problem+json``.

The services run uvicorn's httptools protocol on uvloop (docs/benchmarks.md: about a third
less server CPU per submission than h11 on asyncio's loop). uvicorn writes the status line
and headers, then the body, each with its own ``transport.write``, that is its own ``send``
system call. On this kind of VM a loopback ``send`` costs tens of microseconds
(docs/benchmarks.md), a large share of a small answer.
The writes made in one turn of the event loop are kept and handed to the socket together
at the end of that turn; nothing waits longer than the current turn.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class JoinedWrites(asyncio.Transport):
    """A transport that passes on everything, and joins the writes of one loop turn."""

    def __init__(
        self,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        linger: "LingeringClose | None" = None,
    ) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._linger = linger

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        self._flush()
        if self._linger is not None and self._linger.begin(self._transport):
            return
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class LingeringClose:
    """Closing while the client still sends its body: shut our side, drop what arrives."""

    def __init__(self, protocol: "GuardedHttpToolsProtocol", seconds: float) -> None:
        self._protocol = protocol
        self._seconds = seconds
        self.active = False

    def begin(self, transport: asyncio.Transport) -> bool:
        if self.active or not self._protocol.reading_body() or not transport.can_write_eof():
            return False
        self.active = True
        transport.write_eof()
        asyncio.get_running_loop().call_later(self._seconds, transport.close)
        return True


@dataclass(frozen=True)
class HttpLimits:
    header_seconds: float = 10.0
    body_seconds: float = 20.0
    body_min_rate: float = 500.0
    max_connections: int = 1000
    linger_seconds: float = 2.0


def _problem(status: int, reason: bytes, code: str, title: str, title_th: str) -> bytes:
    body = json.dumps(
        {
            "type": f"https://gecc.example/problems/{code}",
            "title": title,
            "title_th": title_th,
            "status": status,
            "code": code,
        },
        ensure_ascii=False,
    ).encode()
    return (
        b"HTTP/1.1 %d %s\r\ncontent-type: application/problem+json\r\n"
        b"content-length: %d\r\nconnection: close\r\n\r\n" % (status, reason, len(body))
    ) + body


TOO_SLOW = _problem(
    408,
    b"Request Timeout",
    "request_timeout",
    "The request arrived too slowly",
    "คำขอส่งมาช้าเกินไป",
)
TOO_MANY_CONNECTIONS = _problem(
    503,
    b"Service Unavailable",
    "too_many_connections",
    "Too many connections; try again",
    "มีการเชื่อมต่อมากเกินไป กรุณาลองใหม่",
).replace(b"connection: close", b"retry-after: 1\r\nconnection: close")
NOT_HTTP = _problem(
    400,
    b"Bad Request",
    "invalid_http",
    "The request is not valid HTTP/1.1",
    "คำขอไม่ถูกต้องตามรูปแบบ HTTP",
)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """See the module's description; ``limits`` is set by ``guarded_protocol``."""

    limits: ClassVar[HttpLimits] = HttpLimits()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._deadline: asyncio.TimerHandle | None = None
        self._body_started = 0.0
        self._body_bytes = 0
        self._head_complete = False
        self._linger = LingeringClose(self, self.limits.linger_seconds)
        super().connection_made(JoinedWrites(transport, asyncio.get_running_loop(), self._linger))
        if len(self.connections) > self.limits.max_connections:
            self._refuse(TOO_MANY_CONNECTIONS)
            return
        self._arm(self.limits.header_seconds)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._linger.active:
            return  # closing: the rest of a body nobody reads
        super().data_received(data)

    def reading_body(self) -> bool:
        """The current request's head is in and its body is not all read."""
        return self._head_complete

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._deadline is None:
            self._arm(self.limits.header_seconds)

    def on_headers_complete(self) -> None:
        self._head_complete = True
        self._body_started = self.loop.time()
        self._body_bytes = 0
        self._arm(self.limits.body_seconds)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        allowed = self.limits.body_seconds + self._body_bytes / self.limits.body_min_rate
        self._arm(self._body_started + allowed - self.loop.time())
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._head_complete = False
        self._disarm()
        super().on_message_complete()

    def send_400_response(self, msg: str) -> None:
        self._refuse(NOT_HTTP)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(max(seconds, 0.0), self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._linger.active:
            return
        if self.cycle is not None and not self.cycle.response_complete and self._head_complete:
            # The application has the request and waits for its body: it sees a disconnect.
            self._head_complete = False
            self.transport.close()
            return
        self._refuse(TOO_SLOW)

    def _refuse(self, answer: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(answer)
            self.transport.close()


def guarded_protocol(limits: HttpLimits) -> type[GuardedHttpToolsProtocol]:
    """The protocol class uvicorn instantiates, with a service's limits."""
    return type("GuardedHttpToolsProtocol", (GuardedHttpToolsProtocol,), {"limits": limits})
