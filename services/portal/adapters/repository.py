"""All of the portal's SQL: sessions, drafts and kept forms, each row a dataclass here."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg


def digest(secret: str) -> bytes:
    """What is stored of a cookie's value: never the value itself."""
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True)
class Session:
    intake_token: str
    email: str
    kind: str
    center_id: str | None
    office_path: str | None
    display_name: str
    csrf_secret: bytes
    expires_at: datetime


@dataclass(frozen=True)
class Draft:
    id: UUID
    fields: dict[str, Any]
    revision: int
    updated_at: datetime
    updated_by: str
    submitted_key: str | None
    receipt: dict[str, Any] | None

    @property
    def key(self) -> str:
        """The Idempotency-Key of submitting this revision: a double click, a reload or the
        back button sends the same key again, and intake stores one version."""
        return f"portal:{self.id}:{self.revision}"

    @property
    def sent(self) -> bool:
        """This revision was submitted (nothing changed since)."""
        return self.submitted_key == self.key


DRAFT_COLUMNS = "id, fields, revision, updated_at, updated_by, submitted_key, receipt"


async def add_session(conn: asyncpg.Connection, cookie: str, session: Session) -> None:
    await conn.execute(
        "INSERT INTO sessions (id_hash, intake_token, email, kind, center_id, office_path,"
        " display_name, csrf_secret, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        digest(cookie),
        session.intake_token,
        session.email,
        session.kind,
        session.center_id,
        session.office_path,
        session.display_name,
        session.csrf_secret,
        session.expires_at,
    )


async def session(conn: asyncpg.Connection, cookie: str, now: datetime) -> Session | None:
    row = await conn.fetchrow(
        "SELECT intake_token, email, kind, center_id, office_path, display_name, csrf_secret,"
        " expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2",
        digest(cookie),
        now,
    )
    return None if row is None else Session(**dict(row))


async def ended_session_center(conn: asyncpg.Connection, cookie: str) -> str | None:
    """The center of a session that existed for this cookie, expired or not."""
    found: str | None = await conn.fetchval(
        "SELECT center_id FROM sessions WHERE id_hash = $1", digest(cookie)
    )
    return found


async def remove_session(conn: asyncpg.Connection, cookie: str) -> Session | None:
    row = await conn.fetchrow(
        "DELETE FROM sessions WHERE id_hash = $1 RETURNING intake_token, email, kind,"
        " center_id, office_path, display_name, csrf_secret, expires_at",
        digest(cookie),
    )
    return None if row is None else Session(**dict(row))


async def forget_ended(conn: asyncpg.Connection, now: datetime) -> None:
    """Sessions ended more than a day ago and kept forms past their time."""
    await conn.execute(
        "DELETE FROM sessions WHERE expires_at < $1::timestamptz - interval '1 day'", now
    )
    await conn.execute("DELETE FROM kept_forms WHERE expires_at < $1", now)


async def draft(conn: asyncpg.Connection, center_id: str, round_id: str) -> Draft | None:
    row = await conn.fetchrow(
        f"SELECT {DRAFT_COLUMNS} FROM drafts WHERE center_id = $1 AND round_id = $2",
        center_id,
        round_id,
    )
    return None if row is None else Draft(**dict(row))


async def save_draft(
    conn: asyncpg.Connection,
    center_id: str,
    round_id: str,
    fields: dict[str, Any],
    by: str,
    at: datetime,
) -> Draft:
    """Store the draft; its revision grows only when what it holds changed."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO drafts (center_id, round_id, fields, updated_by, updated_at)
        VALUES ($1, $2, $3::text::jsonb, $4, $5)
        ON CONFLICT (center_id, round_id) DO UPDATE SET fields = excluded.fields,
            revision = drafts.revision + 1, updated_by = excluded.updated_by,
            updated_at = excluded.updated_at
        WHERE drafts.fields IS DISTINCT FROM excluded.fields
        RETURNING {DRAFT_COLUMNS}
        """,
        center_id,
        round_id,
        json.dumps(fields, ensure_ascii=False),
        by,
        at,
    )
    if row is None:  # unchanged
        found = await draft(conn, center_id, round_id)
        assert found is not None
        return found
    return Draft(**dict(row))


async def mark_sent(
    conn: asyncpg.Connection, draft_id: UUID, key: str, receipt: dict[str, Any]
) -> None:
    await conn.execute(
        "UPDATE drafts SET submitted_key = $2, receipt = $3::text::jsonb WHERE id = $1",
        draft_id,
        key,
        json.dumps(receipt, ensure_ascii=False),
    )


async def drafted_rounds(conn: asyncpg.Connection, center_id: str) -> set[str]:
    """Rounds where the center has a draft it has not sent as it stands."""
    rows = await conn.fetch(
        "SELECT round_id FROM drafts WHERE center_id = $1 AND submitted_key IS DISTINCT FROM"
        " 'portal:' || id || ':' || revision",
        center_id,
    )
    return {row["round_id"] for row in rows}


async def keep_form(
    conn: asyncpg.Connection,
    browser: str,
    round_id: str,
    center_id: str | None,
    fields: dict[str, Any],
    until: datetime,
) -> None:
    await conn.execute(
        """
        INSERT INTO kept_forms (browser_hash, round_id, fields, expires_at)
        VALUES ($1, $2, $3::text::jsonb, $4)
        ON CONFLICT (browser_hash, round_id) DO UPDATE SET fields = excluded.fields,
            kept_at = now(), expires_at = excluded.expires_at
        """,
        digest(browser),
        round_id,
        json.dumps({"center_id": center_id, "posted": fields}, ensure_ascii=False),
        until,
    )


async def take_kept_forms(
    conn: asyncpg.Connection, browser: str, now: datetime
) -> list[tuple[str, str | None, dict[str, str]]]:
    """The browser's kept forms still in time, removed: (round, center if known, posted)."""
    rows = await conn.fetch(
        "DELETE FROM kept_forms WHERE browser_hash = $1 RETURNING round_id, fields, expires_at",
        digest(browser),
    )
    return [
        (row["round_id"], row["fields"]["center_id"], row["fields"]["posted"])
        for row in rows
        if row["expires_at"] > now
    ]
