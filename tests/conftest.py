from collections.abc import AsyncIterator, Iterator

import pytest

from shared.object_storage import ObjectStorageConfig
from tests.support import isolation
from tests.support.infrastructure import (
    Infrastructure,
    InfrastructureUnavailable,
    provide,
    provide_object_storage,
)


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
    own = await isolation.create(infrastructure)
    try:
        yield own
    finally:
        await isolation.remove(own)
