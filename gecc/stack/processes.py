"""Detached processes: start one with its own log, tell whether a pid is still ours, stop it."""

import asyncio
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from datetime import datetime
from pathlib import Path

import httpx
import psutil

from gecc.stack.config import LOCALHOST
from gecc.stack.errors import StackError
from gecc.stack.state import ProcessRecord

KILL_WAIT = 10.0


def spawn(
    command: Sequence[str],
    log_file: Path,
    address: str,
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
) -> ProcessRecord:
    """Start ``command`` in its own session, detached from our terminal, logging to ``log_file``."""
    keep_previous_log(log_file)
    with log_file.open("ab") as log:
        child = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # A long-lived caller (a test session) must not collect zombies, nor warn that the
    # child outlives its Popen: a daemon thread reaps it whenever it exits.
    threading.Thread(target=child.wait, name=f"reap-{child.pid}", daemon=True).start()
    # Right after exec, /proc/<pid>/cmdline can still be empty: record what we launched.
    return record_of(child.pid, address, command=tuple(command))


def keep_previous_log(log_file: Path) -> None:
    """Move the last run's log to ``<name>.log.1`` so a fresh start does not bury it."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if log_file.exists() and log_file.stat().st_size > 0:
        os.replace(log_file, log_file.with_name(log_file.name + ".1"))


def record_of(pid: int, address: str, command: tuple[str, ...] | None = None) -> ProcessRecord:
    try:
        process = psutil.Process(pid)
        created = process.create_time()
        if command is None:
            command = tuple(process.cmdline())
    except psutil.Error as err:
        raise StackError(f"process {pid} exited right after it started ({err})") from err
    started_at = datetime.fromtimestamp(created).astimezone().isoformat()
    return ProcessRecord(pid=pid, command=command, address=address, started_at=started_at)


START_TIME_TOLERANCE = 2.5


def is_ours(record: ProcessRecord) -> bool:
    """True when the pid is alive and is still the process we started, not a reused pid."""
    try:
        process = psutil.Process(record.pid)
        return (
            process.status() != psutil.STATUS_ZOMBIE
            # psutil derives start times from the boot time, which /proc/stat gives in
            # whole seconds and which moves by a second when the clock is adjusted: the
            # same process can read 1.0 s apart over a day. A reused pid with the same
            # command line would have started well after ours. Checked before the command
            # line, which may be waited for.
            and abs(process.create_time() - record.started_epoch) < START_TIME_TOLERANCE
            and _command_line(process) == record.command
        )
    except psutil.Error:
        return False


def _command_line(process: psutil.Process, within: float = 2.0) -> tuple[str, ...]:
    """The process's command line; right after exec it reads empty for a moment (under load,
    long enough to be seen), so an empty one is read again for up to ``within`` seconds."""
    deadline = time.monotonic() + within
    while not (found := tuple(process.cmdline())) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def stop(record: ProcessRecord, grace: float) -> None:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL it and its children; return once gone."""
    if not is_ours(record):
        return
    with suppress(psutil.NoSuchProcess):
        process = psutil.Process(record.pid)
        process.terminate()
        if _wait_gone(process, grace):
            return
        for survivor in [*process.children(recursive=True), process]:
            with suppress(psutil.NoSuchProcess):
                survivor.kill()
        if not _wait_gone(process, KILL_WAIT):
            raise StackError(
                f"process {record.pid} survived SIGKILL for {KILL_WAIT:.0f} s: "
                f"check `ps -p {record.pid}`"
            )


def _wait_gone(process: psutil.Process, timeout: float) -> bool:
    # Not psutil's wait(): it also waits for the zombie to be reaped, which a container's
    # init may do only every few seconds. An exited process is gone for our purposes.
    deadline = time.monotonic() + timeout
    while not _exited(process):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def _exited(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def ensure_port_free(port: int, component: str, setting: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOCALHOST, port))
        except OSError:
            raise StackError(
                f"port {port} for {component} is in use by {_listener(port)}: stop it, "
                f"or set {setting} to a free port"
            ) from None


def _listener(port: int) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                if conn.pid is None:
                    break
                with suppress(psutil.Error):
                    return f"another process (pid {conn.pid}, {psutil.Process(conn.pid).name()})"
                return f"another process (pid {conn.pid})"
    except psutil.Error:
        pass
    return "another process"


def log_tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return f"(no log at {path})"
    with path.open("rb") as log:
        log.seek(0, os.SEEK_END)
        log.seek(max(0, log.tell() - 64 * 1024))
        text = log.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


HEALTH_TIMEOUT = 2.0


def answers_ok(url: str) -> bool:
    """True when ``GET url`` answers 200 within ``HEALTH_TIMEOUT`` (no proxy from the
    environment: these are local processes)."""
    try:
        response = httpx.get(url, timeout=HEALTH_TIMEOUT, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def wait_until_ready(
    record: ProcessRecord,
    what: str,
    ready: Callable[[], bool],
    awaited: str,
    log: Path,
    timeout: float,
    interval: float = 0.1,
) -> None:
    """Until ``ready()``; fail early, with the log's tail, if the process died, and after
    ``timeout`` seconds saying what was ``awaited`` ("answer GET /health")."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_ours(record):
            raise StackError(
                f"{what} (pid {record.pid}) exited during start-up; "
                f"last lines of {log}:\n{log_tail(log)}"
            )
        if ready():
            return
        time.sleep(interval)
    raise StackError(
        f"{what} did not {awaited} on {record.address} within "
        f"{timeout:.0f} s; last lines of {log}:\n{log_tail(log)}"
    )


async def port_accepts(port: int) -> bool:
    """True when something accepts connections on the port: a cheap check before a client
    that logs or retries every refused attempt (aiokafka, botocore)."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(LOCALHOST, port), 0.5)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True
