"""When Kafka or PostgreSQL cannot be reached, tests fail saying why and how to start them."""

import pytest

from tests.support.infrastructure import (
    Infrastructure,
    InfrastructureUnavailable,
    check_reachable,
)
from tests.support.services import free_port


async def test_unreachable_database_names_itself_and_the_fix() -> None:
    port = free_port()
    infra = Infrastructure("127.0.0.1:1", f"postgresql://postgres@127.0.0.1:{port}/x", "test")
    with pytest.raises(InfrastructureUnavailable) as error:
        await check_reachable(infra)
    message = str(error.value)
    assert f"PostgreSQL at postgresql://postgres@127.0.0.1:{port}/x" in message
    assert "gecc stack up --no-services" in message
    assert "GECC_DATABASE_URL=" in message
