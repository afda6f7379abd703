"""The load generator, run as its own process: ``python -m bench.load`` < spec.json.

It reads a ``LoadSpec`` as JSON on stdin, keeps ``concurrency`` HTTP/1.1 keep-alive
connections busy with ``POST`` requests (each with its own ``Idempotency-Key`` and one of
many centers' Bearer tokens, in turn), and writes JSON lines on stdout: ``{"event":
"start"}`` when the measured window opens (after the warm-up), ``{"event": "end"}`` when it
closes, then ``{"result": {...}}``. Only answers completed inside the window are counted.

Two clients: ``raw`` (default) writes pre-built request bytes over ``asyncio.open_connection``
and reads the answer by its ``Content-Length`` (or chunks); ``httpx`` uses
``httpx.AsyncClient``. The generator reports its own CPU use over the window, so a run can
tell whether the generator, not the server, was the limit.
"""

import asyncio
import json
import math
import sys
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

STRAGGLER_SECONDS = 30.0  # how long to wait for answers still missing when the window closes


@dataclass(frozen=True)
class LoadSpec:
    ports: list[int]
    path: str
    body: str
    tokens: list[str]
    concurrency: int = 32
    warmup: float = 2.0
    seconds: float = 10.0
    expect: int = 201
    client: str = "raw"
    host: str = "127.0.0.1"


@dataclass(frozen=True)
class LoadResult:
    accepted: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    connection_errors: int
    generator_cpu: float
    requests_sent: int


@dataclass
class Window:
    """The measured interval (``perf_counter`` seconds) and what completed inside it."""

    start: float
    end: float
    expect: int
    statuses: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    connection_errors: int = 0
    cpu_start: float = 0.0
    cpu_end: float = 0.0

    def record(self, status: int, started: float, done: float) -> None:
        if self.start <= done < self.end:
            self.statuses[status] += 1
            if status == self.expect:
                self.latencies.append(done - started)

    def failed(self, at: float) -> None:
        if self.start <= at < self.end:
            self.connection_errors += 1


class Requests:
    """Request after request: centers in turn, a new ``Idempotency-Key`` each time."""

    def __init__(self, spec: LoadSpec) -> None:
        self.body = spec.body.encode()
        self._tokens = spec.tokens
        self._prefix = f"bench-{uuid.uuid4().hex[:12]}-"
        self._heads = [self._head(spec, token) for token in spec.tokens]
        self._tail = b"\r\n\r\n" + self.body
        self.sent = 0

    def _head(self, spec: LoadSpec, token: str) -> bytes:
        return (
            f"POST {spec.path} HTTP/1.1\r\nHost: {spec.host}\r\n"
            f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(self.body)}\r\nIdempotency-Key: {self._prefix}"
        ).encode()

    def next_raw(self) -> bytes:
        n = self.sent
        self.sent = n + 1
        return self._heads[n % len(self._heads)] + str(n).encode() + self._tail

    def next_headers(self) -> dict[str, str]:
        n = self.sent
        self.sent = n + 1
        return {
            "Authorization": f"Bearer {self._tokens[n % len(self._tokens)]}",
            "Content-Type": "application/json",
            "Idempotency-Key": f"{self._prefix}{n}",
        }


def _framing(head: bytes) -> tuple[int, bool, bool]:
    """Content length, chunked, connection close: read from a response head."""
    length, chunked, close = 0, False, False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
        elif name == b"connection":
            close = b"close" in value.lower()
    return length, chunked, close


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":
                pass
            return
        await reader.readexactly(size + 2)


class RawConnection:
    """One keep-alive HTTP/1.1 connection, one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def exchange(self, request: bytes) -> int:
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
        reader, writer = self._streams
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        length, chunked, close = _framing(head)
        if chunked:
            await _read_chunked(reader)
        elif length:
            await reader.readexactly(length)
        if close:
            self.close()
        return int(head[9:12])

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


Exchange = Callable[[], Awaitable[int]]


async def _loop(exchange: Exchange, window: Window, on_error: Callable[[], None]) -> None:
    """Send requests back to back until the window closes."""
    clock = time.perf_counter
    while clock() < window.end:
        started = clock()
        try:
            status = await exchange()
        except (OSError, EOFError, ValueError, asyncio.LimitOverrunError, httpx.HTTPError):
            window.failed(clock())
            on_error()
            await asyncio.sleep(0.01)
            continue
        window.record(status, started, clock())


async def _raw_worker(spec: LoadSpec, port: int, requests: Requests, window: Window) -> None:
    connection = RawConnection(spec.host, port)

    async def exchange() -> int:
        return await connection.exchange(requests.next_raw())

    try:
        await _loop(exchange, window, connection.close)
    finally:
        connection.close()


async def _httpx_worker(
    client: httpx.AsyncClient, url: str, requests: Requests, window: Window
) -> None:
    async def exchange() -> int:
        response = await client.post(url, content=requests.body, headers=requests.next_headers())
        return response.status_code

    await _loop(exchange, window, lambda: None)


def _emit(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _mark(window: Window) -> None:
    """Announce the window's start and end to the parent (which samples CPU then)."""
    await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
    window.cpu_start = time.process_time()
    _emit({"event": "start"})
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
    window.cpu_end = time.process_time()
    _emit({"event": "end"})


async def _drive(spec: LoadSpec, requests: Requests, window: Window) -> None:
    ports = [spec.ports[i % len(spec.ports)] for i in range(spec.concurrency)]
    if spec.client == "httpx":
        limits = httpx.Limits(max_connections=spec.concurrency, max_keepalive_connections=None)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
            urls = [f"http://{spec.host}:{port}{spec.path}" for port in ports]
            await asyncio.gather(
                _mark(window), *(_httpx_worker(client, u, requests, window) for u in urls)
            )
        return
    await asyncio.gather(_mark(window), *(_raw_worker(spec, p, requests, window) for p in ports))


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0 when empty)."""
    if not sorted_values:
        return 0.0
    rank = math.ceil(fraction * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def summarise(window: Window, sent: int) -> LoadResult:
    seconds = window.end - window.start
    latencies = sorted(window.latencies)
    return LoadResult(
        accepted=len(latencies),
        seconds=seconds,
        rate=len(latencies) / seconds,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        statuses={str(k): v for k, v in sorted(window.statuses.items())},
        connection_errors=window.connection_errors,
        generator_cpu=(window.cpu_end - window.cpu_start) / seconds,
        requests_sent=sent,
    )


async def run(spec: LoadSpec) -> LoadResult:
    if spec.client not in ("raw", "httpx"):
        raise ValueError(f"unknown client {spec.client!r}: raw or httpx")
    requests = Requests(spec)
    start = time.perf_counter() + spec.warmup
    window = Window(start=start, end=start + spec.seconds, expect=spec.expect)
    try:
        async with asyncio.timeout(spec.warmup + spec.seconds + STRAGGLER_SECONDS):
            await _drive(spec, requests, window)
    except TimeoutError:
        pass  # answers still missing after the window are not counted anyway
    return summarise(window, requests.sent)


def main() -> int:
    spec = LoadSpec(**json.load(sys.stdin))
    result = asyncio.run(run(spec))
    _emit({"result": asdict(result)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
