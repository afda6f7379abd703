"""Evidence files: upload, list, read, delete, and the sweep of orphaned bytes.

An upload is streamed: the request's chunks go on to object storage as they arrive, in one
request of the announced Content-Length (``ObjectStorage.put_sized``: a presigned PUT, so
nothing is buffered beyond the chunk in hand, however many uploads run at once), the
SHA-256 computed on the way and the type decided from the first bytes before any is sent.
The content address is known only at the end, so the bytes go to a temporary key first;
then, holding the bytes' lock, one transaction copies the object to
``evidence/sha256/<hex>`` on the server (no byte passes through intake again) and commits
the metadata row with its audit entry; the temporary object is removed after. A crash
between the stored bytes and the commit leaves objects no row names: ``sweep`` removes
them once they are older than any upload in progress could be.
"""

import logging
import os
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from services.intake.adapters import audit, repository
from services.intake.adapters import evidence as files
from services.intake.adapters.round_book import RoundBook
from services.intake.domain.evidence import (
    HEAD_BYTES,
    EvidenceLimits,
    check_item_count,
    check_quota,
    content_type_of,
    display_name,
    file_too_large,
    referenced,
    unsupported_type,
)
from services.intake.domain.principals import Principal
from services.intake.domain.submissions import accept
from services.intake.handlers.errors import InvalidRequest, NotFound
from shared.object_storage import (
    ObjectNotFound,
    ObjectStorage,
    ObjectStorageError,
    ObjectStorageUnavailable,
)

log = logging.getLogger(__name__)

# Tests only: end the process between the stored bytes and the metadata's commit (issue 18:
# the orphan that leaves is what the sweep removes).
CRASH_AFTER_STORE = "GECC_INTAKE_TEST_CRASH_AFTER_STORE"


@dataclass(frozen=True)
class Upload:
    center_id: str
    round_id: str
    item_code: str
    name: str
    declared_size: int
    actor: str
    remote_addr: str
    at: datetime


async def upload(
    pool: asyncpg.Pool,
    storage: ObjectStorage,
    rounds: RoundBook,
    items: frozenset[str],
    limits: EvidenceLimits,
    request: Upload,
    body: AsyncIterator[bytes],
) -> tuple[files.FileRow, bool]:
    """Store the file; (its row, True when new) or the same bytes' earlier row and False."""
    await _check_round_accepts(pool, rounds, request)
    if request.item_code not in items:
        raise InvalidRequest([("item_code", f"no checklist item {request.item_code!r}")])
    if request.declared_size > limits.file_bytes:
        raise file_too_large(limits)
    # The quota is checked once the bytes are known (_commit): the same file sent again (a
    # retry whose answer was lost) answers its earlier row even when the quota is used up.
    sniffed = _Sniffed(body, limits)
    await sniffed.decide()
    temporary = f"{files.TEMPORARY_PREFIX}{uuid4()}"
    stored = await storage.put_sized(temporary, sniffed.chunks(), request.declared_size)
    try:
        return await _commit(
            pool,
            storage,
            limits,
            request,
            temporary,
            stored.sha256,
            stored.size,
            sniffed.content_type,
        )
    finally:
        with suppress(ObjectStorageError):  # else an orphan: the sweep removes it
            await storage.delete(temporary)


async def _check_round_accepts(pool: asyncpg.Pool, rounds: RoundBook, request: Upload) -> None:
    """Read afresh (an upload is rare beside its own cost; a round just closed refuses)."""
    terms = await rounds.terms(pool, request.round_id, fresh=True)
    if terms is None:
        raise NotFound(request.round_id)
    accept(terms.round, request.at, terms.extension_until(request.center_id))


class _Sniffed:
    """The body: its first bytes read and judged before anything is stored (``decide``),
    then every chunk, refused at once when they grow past the limit."""

    def __init__(self, body: AsyncIterator[bytes], limits: EvidenceLimits) -> None:
        self._body = body
        self._limits = limits
        self._head = b""
        self._size = 0
        self.content_type = ""

    async def decide(self) -> None:
        """Read until the type shows (or the body ends); refuse a type not allowed."""
        async for chunk in self._body:
            self._count(chunk)
            self._head += chunk
            if len(self._head) >= HEAD_BYTES:
                break
        found = content_type_of(self._head)
        if found is None:
            raise unsupported_type()
        self.content_type = found

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._head:
            yield self._head
        async for chunk in self._body:
            self._count(chunk)
            yield chunk

    def _count(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self._limits.file_bytes:
            raise file_too_large(self._limits)


async def _commit(
    pool: asyncpg.Pool,
    storage: ObjectStorage,
    limits: EvidenceLimits,
    request: Upload,
    temporary: str,
    sha256: str,
    size: int,
    content_type: str,
) -> tuple[files.FileRow, bool]:
    async with pool.acquire() as conn, conn.transaction():
        await files.lock_content(conn, sha256)
        same = await files.same_bytes(
            conn, request.center_id, request.round_id, request.item_code, sha256
        )
        if same is not None:
            return same, False
        check_item_count(
            await files.item_count(conn, request.center_id, request.round_id, request.item_code),
            limits,
        )
        check_quota(await files.used_bytes(conn, request.center_id, request.round_id), size, limits)
        try:
            await storage.copy(temporary, files.object_key(sha256))
        except ObjectNotFound:  # swept meanwhile (an upload that took longer than the age)
            raise ObjectStorageUnavailable(f"{temporary!r} was swept before its copy") from None
        if os.environ.get(CRASH_AFTER_STORE) == "1":
            os._exit(70)
        row = files.FileRow(
            file_id=uuid4(),
            round_id=request.round_id,
            center_id=request.center_id,
            item_code=request.item_code,
            name=display_name(request.name, content_type),
            content_type=content_type,
            size=size,
            sha256=sha256,
            uploaded_at=request.at,
        )
        await files.insert(conn, row, request.actor)
        details = {"name": row.name, "item_code": row.item_code, "size": size, "sha256": sha256}
        await audit.record(
            conn,
            request.actor,
            "evidence.upload",
            f"evidence:{row.file_id}",
            details,
            request.remote_addr,
        )
    return row, True


async def readable_file(pool: asyncpg.Pool, who: Principal, file_id: UUID) -> files.FileRow:
    """The file when ``who`` may read it (its center, the offices above, operators)."""
    async with pool.acquire() as conn:
        row = await files.get(conn, file_id)
    if row is None or not who.can_read(row.center_id, row.office_path):
        raise NotFound(str(file_id))
    return row


async def list_files(
    pool: asyncpg.Pool, who: Principal, round_id: str, center_id: str | None
) -> list[files.FileRow]:
    """A center's files in a round: a center its own; an office or operator names one."""
    if who.kind == "center":
        if center_id not in (None, who.center_id):
            raise NotFound(center_id)
        center_id = who.center_id
    if center_id is None:
        raise InvalidRequest([("center_id", "required: name the center whose files to list")])
    async with pool.acquire() as conn:
        office_path = await repository.center_office_path(conn, center_id)
        if office_path is None or not who.can_read(center_id, office_path):
            raise NotFound(center_id)
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        return await files.list_files(conn, center_id, round_id)


async def delete(
    pool: asyncpg.Pool, storage: ObjectStorage, who: Principal, file_id: UUID, remote_addr: str
) -> None:
    """Remove a file no submitted version references; its bytes go with the last row that
    has them (an object storage failure then leaves them to the sweep)."""
    async with pool.acquire() as conn:
        row = await files.get(conn, file_id)
        if row is None or row.center_id != who.center_id:
            raise NotFound(str(file_id))
        sha256 = row.sha256
        await files.lock_content_session(conn, sha256)
        try:
            async with conn.transaction():
                row = await files.get(conn, file_id)
                if row is None:
                    raise NotFound(str(file_id))
                if row.referenced:
                    raise referenced()
                try:
                    await files.delete(conn, file_id)
                except asyncpg.ForeignKeyViolationError:  # a version listed it meanwhile
                    raise referenced() from None
                details = {"name": row.name, "item_code": row.item_code, "sha256": row.sha256}
                await audit.record(
                    conn, who.actor, "evidence.delete", f"evidence:{file_id}", details, remote_addr
                )
            if not await files.content_kept(conn, row.sha256):
                try:
                    await storage.delete(files.object_key(row.sha256))
                except ObjectStorageError as error:
                    log.warning("evidence %s: bytes left to the sweep: %s", row.sha256, error)
        finally:
            await files.unlock_content_session(conn, sha256)


async def sweep(
    conn: asyncpg.Connection, storage: ObjectStorage, older_than: timedelta, now: datetime
) -> list[str]:
    """Remove the objects under ``evidence/`` no row needs, older than ``older_than``
    (temporary ones of uploads that never finished, content no row names); their keys."""
    removed: list[str] = []
    async for listed in storage.list_objects(files.PREFIX):
        if listed.last_modified > now - older_than:
            continue
        if listed.key.startswith(files.TEMPORARY_PREFIX):
            await storage.delete(listed.key)
            removed.append(listed.key)
        elif listed.key.startswith(files.CONTENT_PREFIX):
            sha256 = listed.key.removeprefix(files.CONTENT_PREFIX)
            async with conn.transaction():
                await files.lock_content(conn, sha256)
                if not await files.content_kept(conn, sha256):
                    await storage.delete(listed.key)
                    removed.append(listed.key)
    if removed:
        log.info("evidence sweep: removed %d orphaned object(s)", len(removed))
    return removed
