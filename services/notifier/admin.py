"""Administrative use cases run by operators' tools (the ``gecc`` command), not over HTTP."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import asyncpg

from services.notifier.domain.recipients_file import Channel, Recipient

# Hex digits of SHA-256(secret) shown instead of a webhook's secret: enough to tell two
# secrets apart or to check one against the receiver's copy, never to recover it.
FINGERPRINT_HEX_CHARS = 12


class RecipientsImport(NamedTuple):
    inserted: int
    updated: int


@dataclass(frozen=True)
class RecipientInfo:
    """What can be shown of a recipient: never the secret, only its fingerprint."""

    owner: str
    channel: Channel
    address: str
    secret_fingerprint: str | None


async def import_recipients(
    conn: asyncpg.Connection, recipients: Sequence[Recipient]
) -> RecipientsImport:
    """Insert new recipients and update the secret of known ones (by owner, channel and
    address), all in one transaction; a recipient whose secret did not change is not
    touched, so importing the same file again changes nothing. Nothing is deleted."""
    keys = [recipient.key for recipient in recipients]
    duplicates = len(keys) - len(set(keys))
    if duplicates:
        raise ValueError(f"{duplicates} recipient(s) appear more than once")
    if not recipients:
        return RecipientsImport(0, 0)
    async with conn.transaction():
        rows = await conn.fetchmany(
            """
            INSERT INTO recipients (owner, channel, address, secret)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (owner, channel, address) DO UPDATE SET secret = excluded.secret
            WHERE recipients.secret IS DISTINCT FROM excluded.secret
            RETURNING xmax = 0 AS inserted
            """,
            [(r.owner, r.channel, r.address, r.secret) for r in recipients],
        )
    inserted = sum(1 for row in rows if row["inserted"])
    return RecipientsImport(inserted, len(rows) - inserted)


async def list_recipients(conn: asyncpg.Connection) -> list[RecipientInfo]:
    """Every recipient, operators first, then offices and centers by name."""
    # The fingerprint is computed in the database: the secret never leaves it.
    rows = await conn.fetch(
        """
        SELECT owner, channel, address,
               left(encode(sha256(convert_to(secret, 'UTF8')), 'hex'), $1) AS fingerprint
        FROM recipients
        ORDER BY owner <> 'operators', owner, channel, address
        """,
        FINGERPRINT_HEX_CHARS,
    )
    return [
        RecipientInfo(row["owner"], row["channel"], row["address"], row["fingerprint"])
        for row in rows
    ]
