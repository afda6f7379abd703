"""Signing in and out, and what a browser posted while it had no session (kept, then put
back into the drafts after the next sign-in)."""

import secrets
from datetime import datetime, timedelta

import asyncpg

from services.portal.adapters import repository
from services.portal.adapters.intake import IntakeClient
from services.portal.adapters.repository import Session
from services.portal.domain.report_form import ReportForm
from services.portal.handlers.reports import center_round, report, save_draft


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
