"""What the operators' commands share: one of a service's databases, who is running the
command (for the audit log), and failing cleanly."""

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable
from typing import NoReturn, TypeVar

import asyncpg
import typer

from gecc.stack.config import StackConfig

T = TypeVar("T")


def on_database(
    service: str, database_url: str | None, use: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    """``use`` on a connection to ``service``'s database (default: the local stack's); an
    unreachable or refusing database ends the command with a clear message."""

    async def run() -> T:
        dsn = database_url or StackConfig.from_env().service_dsn(service)
        conn = await asyncpg.connect(dsn)
        try:
            return await use(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(run())
    except OSError as error:
        fail(
            f"cannot reach {service}'s database ({error}): "
            "start it with `gecc stack up` or pass --database-url"
        )
    except asyncpg.PostgresError as error:
        fail(f"{service}'s database refused: {error}")


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def actor() -> str:
    """How the audit log names the person running the command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container user without a name in /etc/passwd
        user = str(os.getuid())
    return f"cli:{user}"
