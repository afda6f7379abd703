"""Evidence files' metadata in intake's database, and the lock that keeps a file's bytes and
its rows in step.

Rows with the same SHA-256 share one object (``object_key``). Whatever creates that object
for a row (an upload's copy) or removes it (a delete, the sweep) holds the SHA-256's
advisory lock, so an object is never removed while a row that needs it is being written.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.intake.domain.evidence import StoredFile

PREFIX = "evidence/"
TEMPORARY_PREFIX = "evidence/tmp/"
CONTENT_PREFIX = "evidence/sha256/"


def object_key(sha256: str) -> str:
    return f"{CONTENT_PREFIX}{sha256}"


@dataclass(frozen=True)
class FileRow:
    file_id: UUID
    round_id: str
    center_id: str
    item_code: str
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    referenced: bool = False
    office_path: str = ""  # the center's, for the read rule

    def view(self) -> dict[str, Any]:
        """The file as the API shows it."""
        return {
            "file_id": self.file_id,
            "round_id": self.round_id,
            "center_id": self.center_id,
            "item_code": self.item_code,
            "name": self.name,
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "uploaded_at": self.uploaded_at,
            "referenced": self.referenced,
        }


_SELECT = """
SELECT f.id AS file_id, f.round_id, f.center_id, f.item_code, f.name, f.content_type, f.size,
       f.sha256, f.uploaded_at, c.office_path,
       EXISTS (SELECT FROM version_evidence v WHERE v.file_id = f.id) AS referenced
FROM evidence_files f JOIN centers c ON c.id = f.center_id
"""


def _row(record: asyncpg.Record) -> FileRow:
    return FileRow(**dict(record))


async def lock_content(conn: asyncpg.Connection, sha256: str) -> None:
    """Until the transaction ends: no other upload, delete or sweep of these bytes."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('gecc.evidence.' || $1))", sha256)


async def lock_content_session(conn: asyncpg.Connection, sha256: str) -> None:
    await conn.execute("SELECT pg_advisory_lock(hashtext('gecc.evidence.' || $1))", sha256)


async def unlock_content_session(conn: asyncpg.Connection, sha256: str) -> None:
    await conn.execute("SELECT pg_advisory_unlock(hashtext('gecc.evidence.' || $1))", sha256)


async def get(conn: asyncpg.Connection, file_id: UUID) -> FileRow | None:
    record = await conn.fetchrow(f"{_SELECT} WHERE f.id = $1", file_id)
    return None if record is None else _row(record)


async def same_bytes(
    conn: asyncpg.Connection, center_id: str, round_id: str, item_code: str, sha256: str
) -> FileRow | None:
    record = await conn.fetchrow(
        f"{_SELECT} WHERE f.center_id = $1 AND f.round_id = $2 AND f.item_code = $3"
        " AND f.sha256 = $4",
        center_id,
        round_id,
        item_code,
        sha256,
    )
    return None if record is None else _row(record)


async def list_files(conn: asyncpg.Connection, center_id: str, round_id: str) -> list[FileRow]:
    records = await conn.fetch(
        f"{_SELECT} WHERE f.center_id = $1 AND f.round_id = $2"
        " ORDER BY f.item_code, f.uploaded_at, f.id",
        center_id,
        round_id,
    )
    return [_row(r) for r in records]


async def used_bytes(conn: asyncpg.Connection, center_id: str, round_id: str) -> int:
    used = await conn.fetchval(
        "SELECT coalesce(sum(size), 0) FROM evidence_files WHERE center_id = $1 AND round_id = $2",
        center_id,
        round_id,
    )
    return int(used)


async def item_count(
    conn: asyncpg.Connection, center_id: str, round_id: str, item_code: str
) -> int:
    count = await conn.fetchval(
        "SELECT count(*) FROM evidence_files"
        " WHERE center_id = $1 AND round_id = $2 AND item_code = $3",
        center_id,
        round_id,
        item_code,
    )
    return int(count)


async def insert(conn: asyncpg.Connection, row: FileRow, uploaded_by: str) -> None:
    await conn.execute(
        """
        INSERT INTO evidence_files (id, center_id, round_id, item_code, sha256, size,
                                    content_type, name, uploaded_at, uploaded_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """,
        row.file_id,
        row.center_id,
        row.round_id,
        row.item_code,
        row.sha256,
        row.size,
        row.content_type,
        row.name,
        row.uploaded_at,
        uploaded_by,
    )


async def delete(conn: asyncpg.Connection, file_id: UUID) -> None:
    await conn.execute("DELETE FROM evidence_files WHERE id = $1", file_id)


async def content_kept(conn: asyncpg.Connection, sha256: str) -> bool:
    """Some row still needs the object of these bytes."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT FROM evidence_files WHERE sha256 = $1)", sha256
    )
    return bool(found)


async def stored_files(
    conn: asyncpg.Connection, file_ids: Sequence[UUID]
) -> dict[UUID, StoredFile]:
    """What a version's check needs of the files it references (those that exist)."""
    records = await conn.fetch(
        "SELECT id, center_id, round_id, item_code, size FROM evidence_files"
        " WHERE id = ANY($1::uuid[])",
        list(file_ids),
    )
    return {
        r["id"]: StoredFile(r["center_id"], r["round_id"], r["item_code"], r["size"])
        for r in records
    }
