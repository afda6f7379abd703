"""The portal's use cases: what a person does, in terms of intake's API and the portal's
own tables (sessions, drafts, kept forms). Pages call these; these never render."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from services.portal.adapters import repository
from services.portal.adapters.intake import IntakeClient, NotFound
from services.portal.adapters.repository import Draft, Session
from services.portal.domain.report_form import FieldError, ReportForm, check
from services.portal.domain.rounds import CenterRound
from shared.standards import Standard


async def sign_in(
    pool: asyncpg.Pool,
    intake: IntakeClient,
    code: str,
    scope: str | None,
    client: str,
    browser: str | None,
    now: datetime,
) -> tuple[str, Session, list[str]]:
    """Open a session with a sign-in link's code: the cookie's value, the session, and the
    rounds whose kept forms were put back into their drafts."""
    opened = await intake.open_session(code, scope, client)
    account = opened.account
    session = Session(
        intake_token=opened.token,
        email=account.email,
        kind=account.kind,
        center_id=account.center_id,
        office_path=account.office_path,
        display_name=account.display_name,
        csrf_secret=secrets.token_bytes(32),
        expires_at=opened.expires_at,
    )
    cookie = secrets.token_urlsafe(32)
    async with pool.acquire() as conn:
        await repository.add_session(conn, cookie, session)
    restored = await restore_kept_forms(pool, intake, session, browser, now) if browser else []
    return cookie, session, restored


async def sign_out(pool: asyncpg.Pool, intake: IntakeClient, cookie: str) -> None:
    async with pool.acquire() as conn:
        ended = await repository.remove_session(conn, cookie)
    if ended is not None:
        await intake.close_session(ended.intake_token)


async def restore_kept_forms(
    pool: asyncpg.Pool, intake: IntakeClient, session: Session, browser: str, now: datetime
) -> list[str]:
    """What this browser posted after its last session ended goes into the drafts of the
    center now signed in, if it was that center's (or nobody's we know of)."""
    assert session.center_id is not None or session.kind != "center"
    async with pool.acquire() as conn:
        kept = await repository.take_kept_forms(conn, browser, now)
    restored = []
    for round_id, center_id, posted in kept:
        if session.center_id is None or center_id not in (None, session.center_id):
            continue
        current = await report(
            pool, intake, session, await center_round(pool, intake, session, round_id)
        )
        form = current.form.merged(ReportForm.from_post(current.standard, posted))
        await save_draft(pool, session, round_id, current.standard, form, now)
        restored.append(round_id)
    return restored


async def keep_form(
    pool: asyncpg.Pool,
    browser: str,
    round_id: str,
    center_id: str | None,
    posted: dict[str, str],
    now: datetime,
    minutes: int,
) -> None:
    async with pool.acquire() as conn:
        await repository.keep_form(
            conn, browser, round_id, center_id, posted, now + timedelta(minutes=minutes)
        )


async def ended_session_center(pool: asyncpg.Pool, cookie: str) -> str | None:
    async with pool.acquire() as conn:
        return await repository.ended_session_center(conn, cookie)


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
    body, _ = check(ReportForm.from_fields(standard, saved.fields), standard, round_id)
    if body is None:
        raise DraftChanged(round_id)
    receipt = await intake.submit(session.intake_token, body.model_dump_json(), key)
    async with pool.acquire() as conn:
        await repository.mark_sent(conn, saved.id, key, receipt)
    return receipt


class DraftChanged(Exception):
    """The draft is no longer the one reviewed: review it again before sending."""
