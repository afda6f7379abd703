"""One test's own database and topic namespace on the shared Kafka and PostgreSQL."""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from gecc.bootstrap import ensure_topics, on_database, prepare_database, quote_ident, with_login
from shared.database import create_pool
from shared.topics import TopicNames
from tests.support.infrastructure import Infrastructure

# Ignored where the server trusts local connections; needed where it checks passwords.
SERVICE_PASSWORD = "gecc-test"


@dataclass(frozen=True)
class Isolated:
    infra: Infrastructure
    database: str
    namespace: str

    @property
    def kafka_bootstrap(self) -> str:
        return self.infra.kafka_bootstrap

    @property
    def topics(self) -> TopicNames:
        return TopicNames(self.namespace)

    def service_url(self, service: str) -> str:
        return with_login(self.infra.admin_url, service, self.database, SERVICE_PASSWORD)

    @asynccontextmanager
    async def service_pool(self, service: str, max_size: int = 4) -> AsyncIterator[asyncpg.Pool]:
        """A pool logged in as the service (its own schema first on the search path)."""
        pool = await create_pool(self.service_url(service), 1, max_size)
        try:
            yield pool
        finally:
            await pool.close()

    def service_env(self, service: str, port: int) -> dict[str, str]:
        prefix = f"GECC_{service.upper()}_"
        return {
            "GECC_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            "GECC_TOPIC_NAMESPACE": self.namespace,
            f"{prefix}DATABASE_URL": self.service_url(service),
            f"{prefix}HTTP_HOST": "127.0.0.1",
            f"{prefix}HTTP_PORT": str(port),
        }


async def create(infra: Infrastructure) -> Isolated:
    tag = uuid.uuid4().hex[:10]
    isolated = Isolated(infra, f"gecc_test_{tag}", f"test-{tag}.")
    await prepare_database(infra.admin_url, isolated.database, SERVICE_PASSWORD)
    await ensure_topics(infra.kafka_bootstrap, isolated.namespace)
    return isolated


async def remove(isolated: Isolated) -> None:
    infra = isolated.infra
    conn = await asyncpg.connect(on_database(infra.admin_url, "postgres"))
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {quote_ident(isolated.database)} WITH (FORCE)")
    finally:
        await conn.close()
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    try:
        await admin.start()
        await admin.delete_topics(list(isolated.topics.all_with_partitions()))
    finally:
        await admin.close()
