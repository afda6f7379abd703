"""Prepare any PostgreSQL server, Kafka cluster and S3-compatible object storage for the
system: used by the local stack, by the tests and by ``gecc bootstrap`` (the Docker Compose
init job)."""

from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.database import migrate
from shared.object_storage import ObjectStorage, ObjectStorageConfig, ObjectStorageError
from shared.topics import SERVICES, TopicNames


class BootstrapError(RuntimeError):
    """The database, the topics or the bucket could not be prepared; the message says why."""


def with_login(url: str, user: str, database: str, password: str | None = None) -> str:
    """``url`` with its user, password and database replaced (host and options kept)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    login = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    netloc = f"{login}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, f"/{database}", parts.query, parts.fragment))


def on_database(url: str, database: str) -> str:
    """``url`` (its user and password kept) pointed at another database."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def prepare_database(
    admin_url: str, database: str, service_password: str | None = None
) -> dict[str, list[str]]:
    """Create ``database`` with one login role and schema per service, then migrate each.

    ``admin_url`` names a superuser; its database part is ignored. Safe to run again:
    returns the migrations applied now, by service.
    """
    server = await asyncpg.connect(on_database(admin_url, "postgres"))
    try:
        if not await server.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database):
            await server.execute(f"CREATE DATABASE {quote_ident(database)}")
    finally:
        await server.close()
    conn = await asyncpg.connect(on_database(admin_url, database))
    try:
        for service in SERVICES:
            await _service_schema(conn, service, database, service_password)
        await conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
    finally:
        await conn.close()
    return {
        service: await migrate(with_login(admin_url, service, database, service_password), service)
        for service in SERVICES
    }


async def _service_schema(
    conn: asyncpg.Connection, service: str, database: str, password: str | None
) -> None:
    role = quote_ident(service)
    if not await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", service):
        await conn.execute(f"CREATE ROLE {role} LOGIN")
    if password:
        await conn.execute(f"ALTER ROLE {role} PASSWORD {_literal(password)}")
    await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {role} AUTHORIZATION {role}")
    await set_search_path(conn, service, database)


async def set_search_path(conn: asyncpg.Connection, service: str, database: str) -> None:
    """In ``database`` the service's role sees its own schema (a role's settings in a database
    are not copied with the database)."""
    role = quote_ident(service)
    await conn.execute(
        f"ALTER ROLE {role} IN DATABASE {quote_ident(database)} SET search_path = {role}"
    )


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def remove_namespace(admin_url: str, database: str, bootstrap: str, namespace: str) -> None:
    """Undo ``prepare_database`` and ``ensure_topics`` of a namespace: drop the database (its
    sessions ended) and delete the namespace's topics. For tests and benchmarks that make
    their own."""
    server = await asyncpg.connect(on_database(admin_url, "postgres"))
    try:
        await server.execute(f"DROP DATABASE IF EXISTS {quote_ident(database)} WITH (FORCE)")
    finally:
        await server.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        await admin.delete_topics(list(TopicNames(namespace).all_with_partitions()))
    finally:
        await admin.close()


async def ensure_topics(bootstrap: str, namespace: str = "") -> list[str]:
    """Create every topic the system uses that is missing; return the names created now."""
    names = TopicNames(namespace)
    wanted = names.all_with_partitions()
    configs = names.configs()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                n,
                1,
                topic_configs=configs.get(name, {}),
            )
            for name, n in wanted.items()
            if name not in existing
        ]
        if not missing:
            return []
        response = await admin.create_topics(missing)
    finally:
        await admin.close()
    failures = [
        f"{topic}: {for_code(code).__name__}"
        for topic, code, *_ in response.topic_errors
        if code and for_code(code) is not TopicAlreadyExistsError
    ]
    if failures:
        raise BootstrapError(f"Kafka refused to create topics: {'; '.join(failures)}")
    return [topic.name for topic in missing]


async def ensure_bucket(config: ObjectStorageConfig) -> bool:
    """Create the bucket evidence files go to unless it exists; True when created now."""
    try:
        async with ObjectStorage(config) as storage:
            return await storage.ensure_bucket()
    except ObjectStorageError as error:
        raise BootstrapError(f"could not create bucket {config.bucket!r}: {error}") from error
