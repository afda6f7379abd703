"""A center's report: its rounds, the draft kept as people type, review and submit."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.portal.adapters import repository
from services.portal.adapters.intake import IntakeClient, NotFound
from services.portal.adapters.repository import Draft, Session
from services.portal.domain.report_form import FieldError, ReportForm, check, report_json
from services.portal.domain.rounds import CenterRound
from shared.standards import Standard


async def center_rounds(
    pool: asyncpg.Pool, intake: IntakeClient, session: Session
) -> list[CenterRound]:
    assert session.center_id is not None
    entries = await intake.center_rounds(session.intake_token, session.center_id)
    async with pool.acquire() as conn:
        drafted = await repository.drafted_rounds(conn, session.center_id)
    return [CenterRound.of(e, e["round"]["id"] in drafted) for e in entries]


async def center_round(
    pool: asyncpg.Pool, intake: IntakeClient, session: Session, round_id: str
) -> CenterRound:
    for found in await center_rounds(pool, intake, session):
        if found.round_id == round_id:
            return found
    raise NotFound(round_id)


@dataclass(frozen=True)
class Report:
    """A report being written: the standard it answers and the form as it stands."""

    standard: Standard
    form: ReportForm
    draft: Draft | None
    # "draft", "latest version" (amending: prefilled from it) or "new"
    origin: str


async def report(
    pool: asyncpg.Pool, intake: IntakeClient, session: Session, current: CenterRound
) -> Report:
    """The report as it stands: the draft if there is one not sent yet, else the latest
    version sent (to amend it), else an empty form."""
    assert session.center_id is not None
    token = session.intake_token
    async with pool.acquire() as conn:
        saved = await repository.draft(conn, session.center_id, current.round_id)
    if saved is not None and (not saved.sent or _is_latest(saved, current)):
        standard = await intake.standard(token, saved.fields.get("standard"))
        form = ReportForm.from_fields(standard, saved.fields)
        return Report(standard, form, saved, "latest" if saved.sent else "draft")
    if current.submission_id is not None and current.latest_version is not None:
        latest = await intake.version(token, str(current.submission_id), current.latest_version)
        sent = latest["report"]
        standard = await intake.standard(token, sent["checklist"]["standard"])
        return Report(standard, ReportForm.from_report(standard, sent), saved, "latest")
    standard = await intake.standard(token)
    return Report(standard, ReportForm.empty(standard), saved, "new")


def _is_latest(saved: Draft, current: CenterRound) -> bool:
    """The draft was sent and is the latest version (nobody amended since): it holds what
    the latest version holds."""
    return saved.receipt is not None and saved.receipt.get("version") == current.latest_version


async def save_draft(
    pool: asyncpg.Pool,
    session: Session,
    round_id: str,
    standard: Standard,
    form: ReportForm,
    now: datetime,
) -> Draft:
    """The draft holds the form as typed and the standard it answers."""
    assert session.center_id is not None
    fields = {**form.to_fields(), "standard": standard.id}
    async with pool.acquire() as conn:
        return await repository.save_draft(
            conn, session.center_id, round_id, fields, session.email, now
        )


def review(report: Report, round_id: str) -> list[FieldError]:
    return check(report.form, report.standard, round_id)[1]


async def submit(
    pool: asyncpg.Pool,
    intake: IntakeClient,
    session: Session,
    round_id: str,
    key: str,
) -> dict[str, Any]:
    """Send the revision of the draft that was reviewed (``key`` is its key) and keep
    intake's receipt with it; the same key again answers with that receipt. Raises
    DraftChanged when the draft changed after the review (another tab, a colleague)."""
    assert session.center_id is not None
    async with pool.acquire() as conn:
        saved = await repository.draft(conn, session.center_id, round_id)
    if saved is None or saved.key != key:
        raise DraftChanged(round_id)
    if saved.sent and saved.receipt is not None:
        return saved.receipt
    standard = await intake.standard(session.intake_token, saved.fields.get("standard"))
    form = ReportForm.from_fields(standard, saved.fields)
    body, _ = check(form, standard, round_id)
    if body is None:
        raise DraftChanged(round_id)
    receipt = await intake.submit(session.intake_token, report_json(body), key)
    async with pool.acquire() as conn:
        await repository.mark_sent(conn, saved.id, key, receipt)
    return receipt


class DraftChanged(Exception):
    """The draft is no longer the one reviewed: review it again before sending."""
