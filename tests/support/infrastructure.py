"""Where the tests' Kafka and PostgreSQL come from, in this order:

1. ``GECC_KAFKA_BOOTSTRAP`` and ``GECC_DATABASE_URL`` (a superuser URL): a running pair is reused;
2. a Docker engine: testcontainers starts both (official images);
3. otherwise the local launcher starts them under ``.gecc/test-stack`` on their own ports, and
   stops them at the end of the session.

The S3 server, for the tests that need one (``provide_object_storage``):

1. ``GECC_S3_ENDPOINT`` (with ``GECC_S3_BUCKET``, ``GECC_S3_ACCESS_KEY``,
   ``GECC_S3_SECRET_KEY`` when not the local stack's): a running server is reused, the bucket
   made if missing;
2. otherwise the local launcher starts S3Proxy alone under ``.gecc/test-s3`` on its own port
   (``GECC_TEST_S3_PORT``, 39900), and stops it at the end of the session.

Whatever cannot start fails the tests with the reason and how to fix it; nothing is skipped.
"""

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from shared.object_storage import ObjectStorage, ObjectStorageConfig, ObjectStorageError
from shared.settings import ObjectStorageSettings

REPO = Path(__file__).resolve().parents[2]
HOW_TO_START = (
    "Start them with `make install && .venv/bin/gecc stack up --no-services` and run the tests "
    "with GECC_KAFKA_BOOTSTRAP=127.0.0.1:9092 "
    "GECC_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres, or let the tests start "
    "their own (needs Java 17 and Maven on PATH)."
)


HOW_TO_START_S3 = (
    "Start it with `make install && .venv/bin/gecc stack up --no-services` and run the tests "
    "with GECC_S3_ENDPOINT=http://127.0.0.1:9000, or let the tests start their own S3Proxy "
    "(needs Java 17 and Maven on PATH)."
)


class InfrastructureUnavailable(Exception):
    pass


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap: str
    admin_url: str
    origin: str


async def check_reachable(infra: Infrastructure) -> None:
    try:
        conn = await asyncpg.connect(infra.admin_url, timeout=10)
        await conn.close()
    except (OSError, asyncpg.PostgresError) as error:
        raise InfrastructureUnavailable(
            f"PostgreSQL at {infra.admin_url} ({infra.origin}) refused: {error}. {HOW_TO_START}"
        ) from error
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap, request_timeout_ms=10000)
    try:
        await admin.start()
        await admin.describe_cluster()
    except Exception as error:
        raise InfrastructureUnavailable(
            f"Kafka at {infra.kafka_bootstrap} ({infra.origin}) does not answer: {error}. "
            f"{HOW_TO_START}"
        ) from error
    finally:
        await admin.close()


@dataclass(frozen=True)
class ObjectStorageServer:
    config: ObjectStorageConfig
    origin: str


async def check_object_storage(server: ObjectStorageServer) -> None:
    """The server answers and the bucket is there (made now if missing)."""
    try:
        async with ObjectStorage(server.config) as storage:
            await storage.ensure_bucket()
    except ObjectStorageError as error:
        raise InfrastructureUnavailable(
            f"the S3 server ({server.origin}) does not answer: {error}. {HOW_TO_START_S3}"
        ) from error


@contextmanager
def provide_object_storage() -> Iterator[ObjectStorageServer]:
    if os.environ.get("GECC_S3_ENDPOINT"):
        server = ObjectStorageServer(
            ObjectStorageConfig.of(ObjectStorageSettings()), "from GECC_S3_ENDPOINT"
        )
        asyncio.run(check_object_storage(server))
        yield server
    else:
        with _local_object_storage() as server:
            yield server


@contextmanager
def _local_object_storage() -> Iterator[ObjectStorageServer]:
    from gecc.stack import s3proxy
    from gecc.stack.config import StackConfig
    from gecc.stack.errors import StackError
    from gecc.stack.stack import down, start_object_storage

    config = StackConfig(
        home=REPO / ".gecc" / "test-s3",
        s3_port=int(os.environ.get("GECC_TEST_S3_PORT", "39900")),
        start_timeout=120,
    )
    try:
        start_object_storage(config)
    except StackError as error:
        down(config)
        raise InfrastructureUnavailable(
            f"the local launcher could not start S3Proxy: {error}. {HOW_TO_START_S3}"
        ) from error
    try:
        yield ObjectStorageServer(s3proxy.storage_config(config), f"local launcher, {config.home}")
    finally:
        down(config)


@contextmanager
def provide() -> Iterator[Infrastructure]:
    bootstrap, url = os.environ.get("GECC_KAFKA_BOOTSTRAP"), os.environ.get("GECC_DATABASE_URL")
    if bootstrap and url:
        infra = Infrastructure(bootstrap, url, "from GECC_KAFKA_BOOTSTRAP/GECC_DATABASE_URL")
        asyncio.run(check_reachable(infra))
        yield infra
    elif _docker_available():
        with _containers() as infra:
            yield infra
    else:
        with _local_launcher() as infra:
            yield infra


def _docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
    except Exception:
        return False
    return True


@contextmanager
def _containers() -> Iterator[Infrastructure]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    with (
        KafkaContainer("apache/kafka:4.1.1").with_kraft() as kafka,
        PostgresContainer("postgres:18", driver=None) as postgres,
    ):
        yield Infrastructure(
            kafka.get_bootstrap_server(), postgres.get_connection_url(), "testcontainers"
        )


@contextmanager
def _local_launcher() -> Iterator[Infrastructure]:
    from gecc.stack.config import StackConfig
    from gecc.stack.errors import StackError
    from gecc.stack.stack import down, start_infrastructure

    config = StackConfig(
        home=REPO / ".gecc" / "test-stack",
        kafka_port=int(os.environ.get("GECC_TEST_KAFKA_PORT", "39092")),
        kafka_controller_port=int(os.environ.get("GECC_TEST_KAFKA_CONTROLLER_PORT", "39093")),
        postgres_port=int(os.environ.get("GECC_TEST_PG_PORT", "35432")),
        s3_port=int(os.environ.get("GECC_TEST_STACK_S3_PORT", "39000")),
        start_timeout=120,
    )
    try:
        start_infrastructure(config)
    except StackError as error:
        down(config)  # what did start (PostgreSQL before a Kafka port found taken) stops too
        raise InfrastructureUnavailable(
            f"the local launcher could not start Kafka and PostgreSQL: {error}. {HOW_TO_START}"
        ) from error
    try:
        yield Infrastructure(
            config.kafka_bootstrap,
            config.postgres_url("postgres", "postgres"),
            f"local launcher, {config.home}",
        )
    finally:
        down(config)
