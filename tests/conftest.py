from collections.abc import AsyncIterator, Iterator

import pytest

from tests.support import isolation
from tests.support.infrastructure import Infrastructure, InfrastructureUnavailable, provide


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


@pytest.fixture
async def isolated(infrastructure: Infrastructure) -> AsyncIterator[isolation.Isolated]:
    """A database and a topic namespace of this test's own, removed afterwards."""
    own = await isolation.create(infrastructure)
    try:
        yield own
    finally:
        await isolation.remove(own)
