"""The notifier's use cases: keep its copies up to date, queue receipts and results, and act
on the round clock's moments. Every message is queued in the delivery ledger in the same
transaction as the change that causes it; the sender delivers it afterwards."""

import logging
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.notifier.adapters import repository
from services.notifier.domain import messages, notices
from services.notifier.domain.notices import Address, CenterState, Outgoing
from services.notifier.domain.schedule import Moment, RoundSnapshot, Tick
from services.notifier.metrics import NotifierMetrics
from shared.events import (
    CenterRegistered,
    DeadlineNear,
    Envelope,
    RoundClosed,
    RoundScheduled,
    SignInRequested,
    SourceSummary,
    SubmissionReceived,
    SubmissionScored,
    new_event,
)
from shared.messaging.outbox import enqueue
from shared.topics import Topic

log = logging.getLogger(__name__)
SERVICE = "notifier"


async def queue(
    conn: asyncpg.Connection, outgoing: Sequence[Outgoing], metrics: NotifierMetrics
) -> None:
    """Add to the delivery ledger (one statement however many); count those new there."""
    new = await repository.add_deliveries(conn, outgoing)
    for o in outgoing:
        if o.message.delivery_id in new:
            metrics.notifications.labels(o.message.kind.value, o.channel, "queued").inc()


async def send_sign_in_link(
    conn: asyncpg.Connection,
    event: Envelope[SignInRequested],
    portal_url: str,
    metrics: NotifierMetrics,
) -> None:
    """Queue the one-time link to the address that asked, once per request, ahead of every
    other message."""
    requested = event.data
    link = messages.sign_in_link(
        request_id=requested.request_id,
        email=requested.email,
        code=requested.code,
        expires_at=requested.expires_at,
        portal_url=portal_url,
    )
    await queue(conn, [Outgoing("email", link)], metrics)


async def note_round(
    conn: asyncpg.Connection, event: Envelope[RoundScheduled], metrics: NotifierMetrics
) -> None:
    """Keep the round's current dates (the round clock runs on them)."""
    await repository.record_round(conn, event.data)
    await release_held(conn, metrics, round_id=event.data.round_id)


async def note_center(
    conn: asyncpg.Connection, event: Envelope[CenterRegistered], metrics: NotifierMetrics
) -> None:
    """Keep the center's name, parent office and contact addresses."""
    await repository.record_center(conn, event.data)
    await release_held(conn, metrics, center_id=event.data.center_id)


async def note_submission(
    conn: asyncpg.Connection, event: Envelope[SubmissionReceived], metrics: NotifierMetrics
) -> None:
    """Remember that the center submitted (reminders skip it) and send its receipt."""
    await note_submissions(conn, [event], metrics)


async def note_submissions(
    conn: asyncpg.Connection,
    events: Sequence[Envelope[SubmissionReceived]],
    metrics: NotifierMetrics,
) -> None:
    """``note_submission`` for a batch of events: each recorded in turn, their receipts
    queued together (one statement for the batch instead of one for each)."""
    outgoing: list[Outgoing] = []
    for event in events:
        center, round_ = await repository.record_submission_and_read(conn, event.data)
        outgoing += await _receipts(conn, event.data, center, round_, metrics)
    await queue(conn, outgoing, metrics)


async def note_result(
    conn: asyncpg.Connection, event: Envelope[SubmissionScored], metrics: NotifierMetrics
) -> None:
    """Remember the version's verdict and tell the center its result, once per version (a
    re-score with a corrected standard is not announced again)."""
    await note_results(conn, [event], metrics)


async def note_results(
    conn: asyncpg.Connection,
    events: Sequence[Envelope[SubmissionScored]],
    metrics: NotifierMetrics,
) -> None:
    """``note_result`` for a batch of events, their results queued together."""
    outgoing: list[Outgoing] = []
    for event in events:
        first, center = await repository.record_result_and_read(conn, event.data)
        if first:
            outgoing += await _results(conn, event.data, center, metrics)
    await queue(conn, outgoing, metrics)


async def send_receipt(
    conn: asyncpg.Connection, received: SubmissionReceived, metrics: NotifierMetrics
) -> None:
    center = await repository.center(conn, received.center_id)
    round_ = await repository.get_round(conn, received.round_id)
    await queue(conn, await _receipts(conn, received, center, round_, metrics), metrics)


async def _receipts(
    conn: asyncpg.Connection,
    received: SubmissionReceived,
    center: CenterState | None,
    round_: RoundSnapshot | None,
    metrics: NotifierMetrics,
) -> list[Outgoing]:
    """The receipt's messages; none when it is held (center or round unknown here yet) or
    when the center has nobody to send it to (counted as such)."""
    if center is None or round_ is None:
        await hold(conn, "receipt", received, metrics)
        return []
    outgoing = notices.receipts(
        center,
        round_,
        submission_id=received.submission_id,
        receipt_number=received.receipt_number,
        version=received.version,
        received_at=received.received_at,
        late=received.late,
        source=SourceSummary.of(received.satisfaction.source),
    )
    return _counted_if_nobody(outgoing, "receipt", metrics)


async def send_result(
    conn: asyncpg.Connection, scored: SubmissionScored, metrics: NotifierMetrics
) -> None:
    center = await repository.center(conn, scored.center_id)
    await queue(conn, await _results(conn, scored, center, metrics), metrics)


async def _results(
    conn: asyncpg.Connection,
    scored: SubmissionScored,
    center: CenterState | None,
    metrics: NotifierMetrics,
) -> list[Outgoing]:
    if center is None:
        await hold(conn, "result", scored, metrics)
        return []
    outgoing = notices.results(
        center,
        round_id=scored.round_id,
        submission_id=scored.submission_id,
        version=scored.version,
        verdict=scored.verdict,
        satisfaction_percent=scored.satisfaction.overall_percent,
        checklist_percent=scored.checklist.overall_percent,
        reasons=[(r.text_th, r.text_en) for r in scored.reasons],
        source=scored.satisfaction_source,
    )
    return _counted_if_nobody(outgoing, "result", metrics)


def _counted_if_nobody(
    outgoing: Sequence[Outgoing], kind: str, metrics: NotifierMetrics
) -> list[Outgoing]:
    if not outgoing:
        metrics.notifications.labels(kind, "any", "no_recipient").inc()
    return list(outgoing)


async def hold(
    conn: asyncpg.Connection,
    kind: str,
    data: SubmissionReceived | SubmissionScored,
    metrics: NotifierMetrics,
) -> None:
    """Keep a notice until its center and round are known here (events of different topics
    come in no fixed order)."""
    await repository.hold_notice(conn, kind, data.center_id, data.round_id, data.model_dump_json())
    metrics.notifications.labels(kind, "any", "held").inc()


async def release_held(
    conn: asyncpg.Connection,
    metrics: NotifierMetrics,
    center_id: str | None = None,
    round_id: str | None = None,
) -> None:
    """Send what was held for this center or round (what still cannot be sent is held
    again)."""
    await send_held(conn, await repository.take_held_notices(conn, center_id, round_id), metrics)


async def release_ready(conn: asyncpg.Connection, metrics: NotifierMetrics) -> None:
    """Send the held notices whose center and round arrived meanwhile: the sweep behind
    ``release_held``, for a notice held while its center's event was being committed."""
    await send_held(conn, await repository.take_ready_notices(conn), metrics)


async def send_held(
    conn: asyncpg.Connection, held: Sequence[tuple[str, str]], metrics: NotifierMetrics
) -> None:
    for kind, event in held:
        if kind == "receipt":
            await send_receipt(conn, SubmissionReceived.model_validate_json(event), metrics)
        else:
            await send_result(conn, SubmissionScored.model_validate_json(event), metrics)


async def act_on(
    conn: asyncpg.Connection,
    moment: Moment,
    now: datetime,
    operator_emails: Sequence[str],
    metrics: NotifierMetrics,
) -> bool:
    """Fire one moment of the round clock: ledger entry, event and messages in one
    transaction. False when another process (or an earlier run) already did."""
    async with conn.transaction():
        if not await repository.claim_moment(conn, moment, "fired"):
            return False
        round_ = await repository.get_round(conn, moment.round_id)
        assert round_ is not None
        centers = await repository.round_centers(conn, round_.id)
        if moment.tick is Tick.DEADLINE_NEAR:
            near = DeadlineNear(
                round_id=round_.id, due_at=round_.due_at, days_before=moment.days_before
            )
            await enqueue(conn, Topic.DEADLINE_NEAR, round_.id, new_event(near, SERVICE, now))
            outgoing = notices.reminders(round_, moment.days_before, centers)
        elif moment.tick is Tick.OVERDUE:
            outgoing = notices.overdue_notices(round_, centers)
        else:
            closed = RoundClosed(round_id=round_.id, closes_at=round_.closes_at)
            await enqueue(conn, Topic.ROUND_CLOSED, round_.id, new_event(closed, SERVICE, now))
            operators = await repository.operator_addresses(conn)
            operators += [Address("email", e) for e in operator_emails]
            offices = await repository.office_addresses(conn)
            outgoing = notices.close_summaries(round_, centers, offices, operators)
        await queue(conn, outgoing, metrics)
    metrics.clock_moments.labels(moment.tick.value, "fired").inc()
    log.info("round clock: %s fired, %d message(s) queued", moment.key, len(outgoing))
    return True


async def skip(conn: asyncpg.Connection, moment: Moment, metrics: NotifierMetrics) -> None:
    if await repository.claim_moment(conn, moment, "skipped"):
        metrics.clock_moments.labels(moment.tick.value, "skipped").inc()
        log.info("round clock: %s missed while down, superseded: skipped", moment.key)
