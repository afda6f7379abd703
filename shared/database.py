"""Database helpers every service uses the same way: connection pools and ordered migrations.

Each service owns one schema (its role's ``search_path``); its migrations are the ``*.sql``
files in ``services/<name>/migrations`` plus the messaging tables (outbox, inbox) every
service has. Each file runs once, in its own transaction, under an advisory lock so two
replicas starting together do not race.
"""

import json
from pathlib import Path

import asyncpg

# The database is unreachable or overloaded, rather than the request wrong: worth retrying.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)

MESSAGING_MIGRATIONS = Path(__file__).resolve().parent / "messaging" / "migrations"
SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def service_migrations(service: str) -> list[Path]:
    own = sorted((SERVICES_DIR / service / "migrations").glob("*.sql"))
    return sorted(MESSAGING_MIGRATIONS.glob("*.sql")) + own


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection that reads and writes json/jsonb as Python values, like the pools."""
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Release a connection without asyncpg's reset query (``UNLISTEN *; RESET ALL; ...``).

    That query is one more round trip for every use of the pool, and on this kind of VM a
    loopback round trip is a large part of a request's cost (docs/benchmarks.md). asyncpg
    still rolls back a transaction left open before calling this. Pool connections never
    change session state: LISTEN and session advisory locks use connections of their own
    (``connect``), and no code runs SET on a pooled connection.
    """


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, reset=_keep_session
    )
    assert pool is not None
    return pool


async def migrate(dsn: str, service: str) -> list[str]:
    """Apply the service's pending migrations; return the names of those applied now."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_advisory_lock(hashtext('gecc.migrations.' || $1))", service)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        applied: list[str] = []
        for path in service_migrations(service):
            name = f"{path.parent.parent.name}/{path.name}"
            if name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text(encoding="utf-8"))
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
            applied.append(name)
        return applied
    finally:
        await conn.close()
