"""Part of a service in a child process of its own (``python -m <module>``), supervised by the
service: an interpreter of its own for work that would otherwise share the service's
interpreter lock with its requests.

The parent writes the child's settings as one line to its stdin and keeps stdin open: the
child stops when it reads end-of-file, so it also ends when the parent is killed. The child
writes a report (a JSON object) to stdout now and then; the parent hands each to
``on_report``. A child that dies is started again. The child's side: ``read_settings``,
``report``, ``until_told_to_stop``.
"""

import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0
RESTART_DELAY_SECONDS = 1.0
# A report is one line: a child's metrics, histograms and all, fit in far less.
REPORT_LIMIT_BYTES = 4 * 1024 * 1024
Report = dict[str, Any]


class ChildProcess:
    def __init__(
        self,
        name: str,
        module: str,
        settings: str,
        on_report: Callable[[Report], None],
        on_end: Callable[[int | None], None],
    ) -> None:
        """``on_end(exit code)`` when the child ended (None: it could not be started)."""
        self.name = name
        self._module = module
        self._settings = settings
        self._on_report = on_report
        self._on_end = on_end

    async def supervise(self) -> None:
        """Run the child, and again whenever it ends, until cancelled (which ends it)."""
        while True:
            code: int | None = None
            try:
                code = await self._run_child()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s process failed", self.name)
            log.warning("%s process ended (exit code %s); starting it again", self.name, code)
            self._on_end(code)
            await asyncio.sleep(RESTART_DELAY_SECONDS)

    async def _run_child(self) -> int | None:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self._module,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=REPORT_LIMIT_BYTES,
        )
        try:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write(self._settings.encode() + b"\n")
            await child.stdin.drain()
            async for line in child.stdout:
                self._on_report(json.loads(line))
            return await child.wait()
        finally:
            await asyncio.shield(_end(child))


async def _end(child: asyncio.subprocess.Process) -> None:
    """Close the child's stdin (it stops itself), kill it if it does not."""
    if child.returncode is None and child.stdin is not None:
        child.stdin.close()
    try:
        async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
            await child.wait()
    except TimeoutError:
        child.kill()
        await child.wait()


class _Reports:
    fd: int | None = None


def read_settings() -> str:
    """The child's first line of stdin. From here on what else writes to stdout (FastStream's
    log, say) goes to stderr: stdout carries the reports only. Ctrl-C in a terminal reaches
    the whole process group: the parent stops the child, which ignores it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _Reports.fd = os.dup(sys.stdout.fileno())
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return sys.stdin.buffer.readline().decode()


def report(content: Report) -> None:
    assert _Reports.fd is not None, "read_settings() first"
    os.write(_Reports.fd, json.dumps(content).encode() + b"\n")


async def until_told_to_stop() -> None:
    """Return at end-of-file on stdin (the parent closed it or died) or at SIGTERM."""
    loop = asyncio.get_running_loop()
    terminated = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, terminated.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def parent_gone() -> None:
        while await reader.read(4096):
            pass

    waits = [asyncio.create_task(parent_gone()), asyncio.create_task(terminated.wait())]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
