"""When Kafka, PostgreSQL or the S3 server cannot be reached, tests fail saying why and how to
start them."""

import pytest

from shared.object_storage import ObjectStorageConfig
from tests.support.infrastructure import (
    Infrastructure,
    InfrastructureUnavailable,
    ObjectStorageServer,
    check_object_storage,
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


async def test_unreachable_s3_server_names_itself_and_the_fix() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    server = ObjectStorageServer(ObjectStorageConfig(endpoint=endpoint, connect_timeout=1), "test")
    with pytest.raises(InfrastructureUnavailable) as error:
        await check_object_storage(server)
    message = str(error.value)
    assert endpoint in message
    assert "gecc stack up --no-services" in message
    assert "GECC_S3_ENDPOINT=" in message
