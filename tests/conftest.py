import os
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack

import pytest

from shared.object_storage import ObjectStorageConfig
from tests.support import isolation
from tests.support.infrastructure import (
    Infrastructure,
    InfrastructureUnavailable,
    provide,
    provide_object_storage,
)

SHARED_SERVERS = pytest.StashKey[ExitStack]()


def pytest_configure(config: pytest.Config) -> None:
    """With pytest-xdist (``make test`` runs two workers) the controller starts Kafka,
    PostgreSQL and the S3 server once, before its workers, and gives the workers their
    addresses in the environment they start with; each test still has its own database and
    topics. Stopped when the run ends."""
    if not config.getoption("numprocesses", None) or hasattr(config, "workerinput"):
        return
    servers = ExitStack()
    try:
        infra = servers.enter_context(provide())
        storage = servers.enter_context(provide_object_storage()).config
    except InfrastructureUnavailable as error:
        servers.close()
        raise pytest.UsageError(str(error)) from None
    config.stash[SHARED_SERVERS] = servers
    os.environ.update(
        GECC_KAFKA_BOOTSTRAP=infra.kafka_bootstrap,
        GECC_DATABASE_URL=infra.admin_url,
        GECC_S3_ENDPOINT=storage.endpoint,
        GECC_S3_BUCKET=storage.bucket,
        GECC_S3_ACCESS_KEY=storage.access_key,
        GECC_S3_SECRET_KEY=storage.secret_key,
        GECC_S3_REGION=storage.region,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    servers = config.stash.get(SHARED_SERVERS, None)
    if servers is not None:
        servers.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for tier in ("integration", "e2e"):
            if f"/tests/{tier}/" in str(item.path):
                item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session")
def infrastructure() -> Iterator[Infrastructure]:
    """The real Kafka broker and PostgreSQL server of this test session (never mocked)."""
    try:
        with provide() as infra:
            yield infra
    except InfrastructureUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def object_storage_config() -> Iterator[ObjectStorageConfig]:
    """The real S3 server of this test session and its bucket (never mocked): started only
    when a test asks for it."""
    try:
        with provide_object_storage() as server:
            yield server.config
    except InfrastructureUnavailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
async def isolated(infrastructure: Infrastructure) -> AsyncIterator[isolation.Isolated]:
    """A database and a topic namespace of this test's own, removed afterwards."""
    async with isolation.isolated(infrastructure) as own:
        yield own


@pytest.fixture(scope="module")
async def module_isolated(infrastructure: Infrastructure) -> AsyncIterator[isolation.Isolated]:
    """A database and a topic namespace shared by a module's tests (for a stack they share:
    each test then uses centers of its own)."""
    async with isolation.isolated(infrastructure) as own:
        yield own
