"""Evidence files read from object storage, where intake stored them content-addressed
(``evidence/sha256/<hex>``): a part of a file at a time, streamed, never a whole file in
memory."""

import hashlib
from collections.abc import AsyncIterator

from shared.object_storage import ObjectNotFound, ObjectStorage

KEY_PREFIX = "evidence/sha256/"


def object_key(sha256: str) -> str:
    return f"{KEY_PREFIX}{sha256}"


class EvidenceSource:
    def __init__(self, storage: ObjectStorage) -> None:
        self._storage = storage

    async def size(self, sha256: str) -> int:
        """The stored object's size (ObjectNotFound when there is none)."""
        info = await self._storage.head(object_key(sha256))
        if info is None:
            raise ObjectNotFound(object_key(sha256))
        return info.size

    async def part_digest(self, sha256: str, start: int, length: int) -> str:
        """The SHA-256 (hex) of ``length`` bytes from ``start`` of the file, as stored."""
        digest = hashlib.sha256()
        async for chunk in self.part(sha256, start, length):
            digest.update(chunk)
        return digest.hexdigest()

    async def part(self, sha256: str, start: int, length: int) -> AsyncIterator[bytes]:
        """Those bytes as they arrive (ObjectNotFound, ObjectStorageUnavailable)."""
        if length == 0:
            return
        async with self._storage.get(object_key(sha256), byte_range=(start, length)) as reader:
            async for chunk in reader.chunks():
                yield chunk
