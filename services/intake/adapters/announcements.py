"""What intake tells the other services about the registry and the calendar: the current
state of a center or a round, as an event in the same transaction as the change."""

from collections.abc import Sequence

import asyncpg

from services.intake.domain.centers import Center
from services.intake.domain.rounds import Round
from shared.events import CenterRegistered, RoundScheduled, new_event
from shared.messaging.outbox import enqueue_many
from shared.topics import Topic

PRODUCER = "intake"


def round_scheduled(round_: Round) -> RoundScheduled:
    return RoundScheduled(
        round_id=round_.id,
        kind=round_.kind,
        fiscal_year=round_.fiscal_year,
        period_start=round_.period_start,
        period_end=round_.period_end,
        opens_at=round_.opens_at,
        due_at=round_.due_at,
        closes_at=round_.closes_at,
    )


def center_registered(center: Center) -> CenterRegistered:
    return CenterRegistered(
        center_id=center.id,
        name_th=center.name_th,
        name_en=center.name_en,
        office_path=center.office_path,
        province=center.province,
        contact_emails=list(center.contact_emails),
        certified_until=center.certified_until,
    )


async def announce_rounds(conn: asyncpg.Connection, rounds: Sequence[Round]) -> None:
    await enqueue_many(
        conn,
        [(Topic.ROUND_SCHEDULED, r.id, new_event(round_scheduled(r), PRODUCER)) for r in rounds],
    )


async def announce_centers(conn: asyncpg.Connection, centers: Sequence[Center]) -> None:
    await enqueue_many(
        conn,
        [
            (Topic.CENTER_REGISTERED, c.id, new_event(center_registered(c), PRODUCER))
            for c in centers
        ],
    )
