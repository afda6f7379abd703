"""shared/object_storage.py on the real S3 server (S3Proxy, as the stack runs it): bytes streamed
in and out in parts, never whole, and a clear exception when the server is not there."""

import dataclasses
import hashlib
import random
import socket
import uuid
from collections.abc import AsyncIterator

import pytest

from shared.object_storage import (
    MIB,
    MIN_PART_SIZE,
    ObjectNotFound,
    ObjectStorage,
    ObjectStorageConfig,
    ObjectStorageError,
    ObjectStorageUnavailable,
)

CHUNK = 64 * 1024


@pytest.fixture
async def storage(object_storage_config: ObjectStorageConfig) -> AsyncIterator[ObjectStorage]:
    async with ObjectStorage(object_storage_config) as client:
        yield client


@pytest.fixture
async def prefix(storage: ObjectStorage) -> AsyncIterator[str]:
    """Keys of this test's own; whatever it leaves is removed afterwards."""
    own = f"tests/{uuid.uuid4().hex}/"
    yield own
    async for key in storage.list_keys(own):
        await storage.delete(key)


async def generated(size: int, seed: int) -> AsyncIterator[bytes]:
    """``size`` pseudo-random bytes in 64 KiB chunks, made as they are asked for."""
    rng = random.Random(seed)
    left = size
    while left:
        chunk = rng.randbytes(min(CHUNK, left))
        left -= len(chunk)
        yield chunk


def sha256_of(size: int, seed: int) -> str:
    rng, digest, left = random.Random(seed), hashlib.sha256(), size
    while left:
        chunk = rng.randbytes(min(CHUNK, left))
        left -= len(chunk)
        digest.update(chunk)
    return digest.hexdigest()


async def read_back(storage: ObjectStorage, key: str) -> tuple[str, int, int]:
    """SHA-256, size and number of chunks of the object, read as a stream."""
    digest, size, chunks = hashlib.sha256(), 0, 0
    async with storage.get(key) as reader:
        async for chunk in reader.chunks():
            digest.update(chunk)
            size += len(chunk)
            chunks += 1
        assert reader.info.size == size
    return digest.hexdigest(), size, chunks


async def test_a_big_file_goes_in_parts_and_comes_back_streamed_with_the_same_sha256(
    storage: ObjectStorage, prefix: str
) -> None:
    size, key = 12 * MIB + 12345, f"{prefix}big.bin"
    expected = sha256_of(size, seed=1)

    stored = await storage.put(key, generated(size, seed=1), "application/pdf", MIN_PART_SIZE)

    assert (stored.key, stored.size, stored.sha256) == (key, size, expected)
    info = await storage.head(key)
    assert info is not None
    assert (info.size, info.content_type) == (size, "application/pdf")
    assert info.etag.endswith("-3")  # a multipart upload of 5 + 5 + 2 MiB
    sha256, read, chunks = await read_back(storage, key)
    assert (sha256, read) == (expected, size)
    assert chunks > 1  # streamed, not one body

    copied = f"{prefix}copy/big.bin"
    await storage.copy(key, copied)
    assert (await read_back(storage, copied))[:2] == (expected, size)
    assert sorted([k async for k in storage.list_keys(prefix)]) == [key, copied]
    assert [k async for k in storage.list_keys(f"{prefix}copy/")] == [copied]

    await storage.delete(key)
    assert await storage.head(key) is None
    assert [k async for k in storage.list_keys(prefix)] == [copied]
    await storage.delete(key)  # again: no error, as S3 has it
    with pytest.raises(ObjectNotFound):
        async with storage.get(key):
            pass


async def test_a_small_file_goes_in_one_request(storage: ObjectStorage, prefix: str) -> None:
    key = f"{prefix}small.png"
    stored = await storage.put(key, generated(1000, seed=2), "image/png")
    assert stored.sha256 == sha256_of(1000, seed=2)
    info = await storage.head(key)
    assert info is not None
    assert (info.size, info.content_type, "-" in info.etag) == (1000, "image/png", False)


async def test_listing_pages_through_more_keys_than_one_answer_holds(
    storage: ObjectStorage, prefix: str
) -> None:
    keys = [f"{prefix}many/{n:04d}" for n in range(1005)]  # S3 answers 1,000 keys a page
    for key in keys:
        await storage.put(key, generated(1, seed=3))
    assert [k async for k in storage.list_keys(f"{prefix}many/")] == keys


async def test_an_upload_that_fails_midway_leaves_nothing(
    storage: ObjectStorage, prefix: str
) -> None:
    key = f"{prefix}broken.bin"

    async def breaks_after_a_part() -> AsyncIterator[bytes]:
        async for chunk in generated(7 * MIB, seed=4):
            yield chunk
        raise ConnectionResetError("the client went away")

    with pytest.raises(ConnectionResetError):
        await storage.put(key, breaks_after_a_part(), part_size=MIN_PART_SIZE)
    assert await storage.head(key) is None
    assert [k async for k in storage.list_keys(prefix)] == []


async def test_copy_of_a_missing_object_is_not_found(storage: ObjectStorage, prefix: str) -> None:
    with pytest.raises(ObjectNotFound):
        await storage.copy(f"{prefix}missing", f"{prefix}target")


async def test_the_bucket_is_there_and_ensure_bucket_is_idempotent(
    storage: ObjectStorage,
) -> None:
    await storage.ping()
    assert await storage.ensure_bucket() is False
    assert storage.bucket in await storage.list_buckets()


async def test_a_server_that_does_not_answer_raises_unavailable(
    object_storage_config: ObjectStorageConfig,
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = dataclasses.replace(
        object_storage_config, endpoint=f"http://127.0.0.1:{port}", connect_timeout=1
    )
    async with ObjectStorage(down) as storage:
        with pytest.raises(ObjectStorageUnavailable, match=f"127.0.0.1:{port}"):
            await storage.ping()
        with pytest.raises(ObjectStorageUnavailable):
            await storage.put("k", generated(10, seed=5))
        with pytest.raises(ObjectStorageUnavailable):
            await storage.head("k")
        with pytest.raises(ObjectStorageUnavailable):
            async with storage.get("k"):
                pass


async def test_refused_credentials_are_an_error_but_not_unavailability(
    object_storage_config: ObjectStorageConfig,
) -> None:
    wrong = dataclasses.replace(object_storage_config, secret_key="not-the-secret")
    async with ObjectStorage(wrong) as storage:
        with pytest.raises(ObjectStorageError) as refused:
            await storage.ping()
    assert not isinstance(refused.value, ObjectStorageUnavailable)
    assert "403" in str(refused.value)


async def test_a_sized_upload_is_one_streamed_request_and_a_short_or_long_body_stores_nothing(
    storage: ObjectStorage, prefix: str
) -> None:
    size, key = 7 * MIB + 321, f"{prefix}sized.bin"
    stored = await storage.put_sized(key, generated(size, seed=4), size)
    assert (stored.size, stored.sha256) == (size, sha256_of(size, seed=4))
    info = await storage.head(key)
    assert info is not None and info.size == size and "-" not in info.etag  # not multipart
    assert (await read_back(storage, key))[:2] == (stored.sha256, size)
    assert [(o.key, o.size) async for o in storage.list_objects(prefix)] == [(key, size)]

    with pytest.raises(ObjectStorageError, match="1000 bytes of the 2000"):
        await storage.put_sized(f"{prefix}short.bin", generated(1000, seed=5), 2000)
    with pytest.raises(ObjectStorageError, match="more than the 500 bytes"):
        await storage.put_sized(f"{prefix}long.bin", generated(1000, seed=5), 500)

    class Refused(Exception):
        pass

    async def refused_midway() -> AsyncIterator[bytes]:
        yield b"x" * CHUNK
        raise Refused("the caller's own reason")

    with pytest.raises(Refused):
        await storage.put_sized(f"{prefix}refused.bin", refused_midway(), 10 * CHUNK)
    for broken in ("short.bin", "long.bin", "refused.bin"):
        assert await storage.head(f"{prefix}{broken}") is None
