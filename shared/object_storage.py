"""S3-compatible object storage (S3Proxy locally, MinIO in Docker Compose, any S3 in
production): one bucket, objects streamed in and out in chunks, never whole in memory.

Every operation raises ``ObjectStorageUnavailable`` when the server cannot be reached, times
out or answers with a server error (an API maps it to 503 with ``Retry-After``),
``ObjectNotFound`` for a missing key, and ``ObjectStorageError`` for the rest (refused
credentials, a missing bucket), its message naming the cause.
"""

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from aiohttp import ClientError as AiohttpClientError
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, ResponseStreamingError

from shared.settings import (
    DEFAULT_S3_ACCESS_KEY,
    DEFAULT_S3_BUCKET,
    DEFAULT_S3_ENDPOINT,
    DEFAULT_S3_REGION,
    DEFAULT_S3_SECRET_KEY,
    ObjectStorageSettings,
)

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

MIB = 1024 * 1024
# S3's smallest part (but the last); parts are buffered one at a time.
MIN_PART_SIZE = 5 * MIB
DEFAULT_PART_SIZE = 8 * MIB
DEFAULT_CHUNK_SIZE = 256 * 1024
# Codes S3 servers answer when they are overloaded or down rather than refusing the request.
_UNAVAILABLE_CODES = {"ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout"}
_NOT_FOUND_CODES = {"NoSuchKey", "404", "NotFound"}

T = TypeVar("T")


class ObjectStorageError(RuntimeError):
    """Object storage refused an operation; the message says which and why."""


class ObjectStorageUnavailable(ObjectStorageError):
    """Object storage does not answer (down, unreachable, timing out, overloaded)."""


class ObjectNotFound(ObjectStorageError):
    """No object has the key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no object {key!r}")
        self.key = key


@dataclass(frozen=True)
class ObjectStorageConfig:
    """Where the server is and how to sign in; ``region`` only matters to the signature."""

    endpoint: str = DEFAULT_S3_ENDPOINT
    bucket: str = DEFAULT_S3_BUCKET
    access_key: str = DEFAULT_S3_ACCESS_KEY
    secret_key: str = field(default=DEFAULT_S3_SECRET_KEY, repr=False)
    region: str = DEFAULT_S3_REGION
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_connections: int = 32

    @classmethod
    def of(cls, settings: ObjectStorageSettings) -> "ObjectStorageConfig":
        return cls(
            endpoint=settings.s3_endpoint,
            bucket=settings.s3_bucket,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
        )


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    content_type: str
    etag: str


@dataclass(frozen=True)
class ListedObject:
    key: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class StoredObject:
    """What ``put`` wrote: its size and the SHA-256 of its bytes (hex), computed as they went."""

    key: str
    size: int
    sha256: str


class ObjectReader:
    """An object being read: its metadata at once, its bytes as they arrive (``chunks()``)."""

    def __init__(self, info: ObjectInfo, body: Any, chunk_size: int) -> None:
        self.info = info
        self._body = body
        self._chunk_size = chunk_size

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._body.iter_chunks(self._chunk_size):
                yield chunk
        except (HTTPClientError, ResponseStreamingError, AiohttpClientError, TimeoutError) as e:
            raise ObjectStorageUnavailable(
                f"object storage broke off reading {self.info.key!r}: {e}"
            ) from e


class ObjectStorage:
    """A client of one bucket; open it once per process (``async with`` or ``connect``/
    ``close``) and share it: it pools its connections."""

    def __init__(self, config: ObjectStorageConfig) -> None:
        self.config = config
        self._exit_stack: AsyncExitStack | None = None
        self._s3: S3Client | None = None
        self._http: aiohttp.ClientSession | None = None  # streamed uploads (put_sized)

    async def connect(self) -> None:
        if self._s3 is not None:
            return
        stack = AsyncExitStack()
        session = get_session()
        client_config = AioConfig(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=self.config.connect_timeout,
            read_timeout=self.config.read_timeout,
            retries={"total_max_attempts": 2, "mode": "standard"},
            max_pool_connections=self.config.max_connections,
            # S3Proxy (and older S3 servers) refuse the CRC checksum headers recent botocore
            # sends on every upload; integrity is checked with SHA-256 by the callers.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._s3 = await stack.enter_async_context(
            session.create_client(
                "s3",
                endpoint_url=self.config.endpoint,
                region_name=self.config.region,
                aws_access_key_id=self.config.access_key,
                aws_secret_access_key=self.config.secret_key,
                config=client_config,
            )
        )
        timeout = aiohttp.ClientTimeout(
            sock_connect=self.config.connect_timeout, sock_read=self.config.read_timeout
        )
        connector = aiohttp.TCPConnector(limit=self.config.max_connections)
        self._http = await stack.enter_async_context(
            aiohttp.ClientSession(timeout=timeout, connector=connector)
        )
        self._exit_stack = stack

    async def close(self) -> None:
        stack, self._exit_stack, self._s3 = self._exit_stack, None, None
        self._http = None
        if stack is not None:
            await stack.aclose()

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def bucket(self) -> str:
        return self.config.bucket

    async def ping(self) -> None:
        """Return when the server answers and the bucket is there; raise otherwise."""
        try:
            await self._call("reach the bucket", lambda s3: s3.head_bucket(Bucket=self.bucket))
        except ObjectNotFound:
            raise ObjectStorageError(
                f"object storage at {self.config.endpoint}: bucket {self.bucket!r} does not exist"
                " (run `gecc bootstrap` or `gecc stack up`)"
            ) from None

    async def list_buckets(self) -> list[str]:
        """The buckets the credential pair sees: a signed request that needs no bucket."""
        response = await self._call("list the buckets", lambda s3: s3.list_buckets())
        return [bucket["Name"] for bucket in response.get("Buckets", [])]

    async def ensure_bucket(self) -> bool:
        """Create the bucket unless it exists; True when created now."""
        try:
            await self._call("look for the bucket", lambda s3: s3.head_bucket(Bucket=self.bucket))
            return False
        except ObjectNotFound:
            pass
        try:
            await self._call("create the bucket", lambda s3: s3.create_bucket(Bucket=self.bucket))
        except ObjectStorageError as error:
            if "BucketAlreadyOwnedByYou" in str(error):  # made meanwhile by another process
                return False
            raise
        return True

    async def put(
        self,
        key: str,
        chunks: AsyncIterable[bytes],
        content_type: str = "application/octet-stream",
        part_size: int = DEFAULT_PART_SIZE,
    ) -> StoredObject:
        """Store the bytes ``chunks`` yields under ``key``: in one request when they fit in one
        part, else as a multipart upload, holding one part in memory at a time. An upload that
        fails (or is cancelled) is aborted: nothing is left under ``key``."""
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        digest = hashlib.sha256()
        size = 0
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            async for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                buffer += chunk
                while len(buffer) >= part_size:
                    if upload_id is None:
                        upload_id = await self._start_multipart(key, content_type)
                    part = bytes(buffer[:part_size])
                    del buffer[:part_size]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
            if upload_id is None:
                body = bytes(buffer)
                await self._call(
                    f"store {key!r}",
                    lambda s3: s3.put_object(
                        Bucket=self.bucket, Key=key, Body=body, ContentType=content_type
                    ),
                )
            else:
                if buffer:
                    last = bytes(buffer)
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, last))
                await self._call(
                    f"complete the upload of {key!r}",
                    lambda s3: s3.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
                    ),
                )
        except BaseException:
            if upload_id is not None:
                await self._abort(key, upload_id)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    async def put_sized(self, key: str, chunks: AsyncIterable[bytes], size: int) -> StoredObject:
        """Store the ``size`` bytes ``chunks`` yields under ``key`` in one streamed request,
        holding nothing but the chunk in hand (``put`` holds a part): a presigned PUT, whose
        payload is not signed, since a signature over the body needs the whole body first.
        The server takes exactly ``size`` bytes: fewer or more, and the request is broken
        off (``ObjectStorageError``; an exception ``chunks`` raises is raised as it is),
        leaving at most a partial object under ``key`` for the caller to delete."""
        url = await self._call(
            f"sign the upload of {key!r}",
            lambda s3: s3.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=3600
            ),
        )
        digest = hashlib.sha256()
        sent = 0
        failure: BaseException | None = None

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent, failure
            try:
                async for chunk in chunks:
                    sent += len(chunk)
                    if sent > size:
                        raise ObjectStorageError(f"{key!r}: more than the {size} bytes announced")
                    digest.update(chunk)
                    yield chunk
            except BaseException as error:
                failure = error
                raise
            if sent != size:
                failure = ObjectStorageError(f"{key!r}: {sent} bytes of the {size} announced")
                raise failure

        if self._http is None:
            raise RuntimeError("ObjectStorage is not connected: use `async with` or connect()")
        headers = {"Content-Length": str(size), "Content-Type": "application/octet-stream"}
        try:
            async with self._http.put(url, data=body(), headers=headers) as response:
                answer = await response.text()
        except (AiohttpClientError, TimeoutError, OSError) as error:
            if failure is not None:
                raise failure from None
            raise ObjectStorageUnavailable(
                f"object storage at {self.config.endpoint} did not answer (store {key!r}): {error}"
            ) from error
        if failure is not None:
            raise failure
        if response.status >= 500:
            raise ObjectStorageUnavailable(
                f"object storage at {self.config.endpoint} could not store {key!r}:"
                f" {response.status}"
            )
        if response.status >= 300:
            raise ObjectStorageError(
                f"object storage at {self.config.endpoint}, bucket {self.bucket!r} refused to"
                f" store {key!r}: {response.status} {answer[:500]}"
            )
        return StoredObject(key=key, size=sent, sha256=digest.hexdigest())

    @asynccontextmanager
    async def get(
        self,
        key: str,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        byte_range: tuple[int, int] | None = None,
    ) -> AsyncIterator[ObjectReader]:
        """``async with storage.get(key) as reader``: ``reader.info`` at once (ObjectNotFound
        before any byte), then ``async for chunk in reader.chunks()``. ``byte_range``:
        (start, length) of the bytes to read (``length`` > 0); ``info.size`` is then theirs."""
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if byte_range is not None:
            start, length = byte_range
            if start < 0 or length < 1:
                raise ValueError(
                    f"byte_range must be a start >= 0 and a length >= 1, not {byte_range}"
                )
            arguments["Range"] = f"bytes={start}-{start + length - 1}"
        response = await self._call(f"read {key!r}", lambda s3: s3.get_object(**arguments), key)
        body = response["Body"]
        info = ObjectInfo(
            key=key,
            size=response["ContentLength"],
            content_type=response.get("ContentType", "application/octet-stream"),
            etag=response.get("ETag", "").strip('"'),
        )
        try:
            yield ObjectReader(info, body, chunk_size)
        finally:
            body.close()

    async def head(self, key: str) -> ObjectInfo | None:
        """The object's metadata, or None when no object has the key."""
        try:
            response = await self._call(
                f"look up {key!r}", lambda s3: s3.head_object(Bucket=self.bucket, Key=key), key
            )
        except ObjectNotFound:
            return None
        return ObjectInfo(
            key=key,
            size=response["ContentLength"],
            content_type=response.get("ContentType", "application/octet-stream"),
            etag=response.get("ETag", "").strip('"'),
        )

    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is no error (S3's own rule)."""
        await self._call(
            f"delete {key!r}", lambda s3: s3.delete_object(Bucket=self.bucket, Key=key)
        )

    async def list_keys(self, prefix: str = "") -> AsyncIterator[str]:
        """Every key that starts with ``prefix``, in S3's order, a page at a time."""
        token = ""
        while True:
            page = await self._list_page(prefix, token)
            for entry in page.get("Contents", []):
                yield entry["Key"]
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    async def list_objects(self, prefix: str = "") -> AsyncIterator[ListedObject]:
        """``list_keys`` with each object's size and last change (to find old ones)."""
        token = ""
        while True:
            page = await self._list_page(prefix, token)
            for entry in page.get("Contents", []):
                yield ListedObject(entry["Key"], entry["Size"], entry["LastModified"])
            if not page.get("IsTruncated"):
                return
            token = page["NextContinuationToken"]

    async def copy(self, source: str, target: str) -> None:
        """Copy ``source`` to ``target`` inside the bucket, on the server (objects up to 5 GiB,
        S3's limit for one copy)."""
        await self._call(
            f"copy {source!r} to {target!r}",
            lambda s3: s3.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
            ),
            source,
        )

    async def _list_page(self, prefix: str, token: str) -> Any:
        arguments: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if token:
            arguments["ContinuationToken"] = token
        return await self._call(f"list {prefix!r}", lambda s3: s3.list_objects_v2(**arguments))

    async def _start_multipart(self, key: str, content_type: str) -> str:
        response = await self._call(
            f"start the upload of {key!r}",
            lambda s3: s3.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType=content_type
            ),
        )
        return response["UploadId"]

    async def _upload_part(
        self, key: str, upload_id: str, number: int, body: bytes
    ) -> dict[str, Any]:
        response = await self._call(
            f"store part {number} of {key!r}",
            lambda s3: s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
            ),
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    async def _abort(self, key: str, upload_id: str) -> None:
        """Best effort: a server that is down keeps the parts until its own clean-up."""
        with suppress(ObjectStorageError):
            await self._call(
                f"abort the upload of {key!r}",
                lambda s3: s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id
                ),
            )

    async def _call(
        self,
        action: str,
        operation: "Callable[[S3Client], Awaitable[T]]",
        missing_key: str | None = None,
    ) -> T:
        if self._s3 is None:
            raise RuntimeError("ObjectStorage is not connected: use `async with` or connect()")
        try:
            return await operation(self._s3)
        except ClientError as error:
            raise self._refusal(action, error, missing_key) from error
        except (BotoCoreError, AiohttpClientError, TimeoutError, OSError) as error:
            raise ObjectStorageUnavailable(
                f"object storage at {self.config.endpoint} did not answer ({action}): {error}"
            ) from error

    def _refusal(self, action: str, error: ClientError, key: str | None) -> ObjectStorageError:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        where = f"object storage at {self.config.endpoint}, bucket {self.bucket!r}"
        if code in _UNAVAILABLE_CODES or status >= 500:
            return ObjectStorageUnavailable(f"{where} could not {action}: {code} ({status})")
        if code in _NOT_FOUND_CODES or (status == 404 and code != "NoSuchBucket"):
            return ObjectNotFound(key or self.bucket)
        if code == "NoSuchBucket":
            return ObjectStorageError(
                f"{where}: the bucket does not exist (run `gecc bootstrap` or `gecc stack up`)"
            )
        return ObjectStorageError(f"{where} refused to {action}: {code} ({status}) {error}")
