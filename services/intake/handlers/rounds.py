"""Rounds: operators move dates and grant extensions; offices and operators follow
completeness."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.intake.adapters import announcements, audit, offices, repository
from services.intake.domain.completeness import (
    CenterState,
    LevelCounts,
    ListName,
    in_scope,
    roll_up,
)
from services.intake.domain.offices import path_problem
from services.intake.domain.principals import Principal
from services.intake.domain.rounds import Round, Window, date_problems
from services.intake.domain.submissions import SubmissionRefused
from services.intake.handlers.errors import InvalidRequest, NotFound


async def change_round_dates(
    pool: asyncpg.Pool,
    who: Principal,
    round_id: str,
    changes: dict[str, datetime],
    reason: str,
    remote_addr: str,
    now: datetime,
) -> Round:
    """Move a round's dates before it closes; audited with the old and new dates and the
    operator's reason."""
    async with pool.acquire() as conn, conn.transaction():
        current = await repository.lock_round(conn, round_id)
        if current is None:
            raise NotFound(round_id)
        if current.window(now) is Window.CLOSED:
            raise SubmissionRefused(
                "round_closed",
                f"round {round_id} is closed; its dates can no longer change",
                f"รอบ {round_id} ปิดแล้ว เปลี่ยนกำหนดการไม่ได้",
            )
        dates = {k: getattr(current, k) for k in ("opens_at", "due_at", "closes_at")}
        updated = {**dates, **changes}
        problems = date_problems(current, **updated)
        if problems:
            raise InvalidRequest(problems)
        await repository.change_round_dates(conn, round_id, **updated)
        await audit.record(
            conn,
            who.actor,
            "round.change_dates",
            f"round:{round_id}",
            {
                "before": {k: v.isoformat() for k, v in dates.items()},
                "after": {k: v.isoformat() for k, v in updated.items()},
                "reason": reason,
            },
            remote_addr,
        )
        changed = await repository.get_round(conn, round_id)
        assert changed is not None
        await announcements.announce_rounds(conn, [changed])
    return changed


async def grant_extension(
    pool: asyncpg.Pool,
    who: Principal,
    round_id: str,
    center_id: str,
    until: datetime,
    reason: str,
    remote_addr: str,
    now: datetime,
) -> None:
    """Let one center submit after the round closed, until ``until`` (audited)."""
    if until <= now:
        raise InvalidRequest([("until", f"lies in the past (now is {now.isoformat()})")])
    async with pool.acquire() as conn, conn.transaction():
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        if await repository.center_office_path(conn, center_id) is None:
            raise NotFound(center_id)
        await repository.grant_extension(conn, round_id, center_id, until, reason, who.actor)
        await audit.record(
            conn,
            who.actor,
            "extension.grant",
            f"round:{round_id}/center:{center_id}",
            {"until": until.isoformat(), "reason": reason},
            remote_addr,
        )


@dataclass(frozen=True)
class CompletenessReport:
    """A round's completeness for ``office`` (in the caller's ``scope``): its levels with the
    offices' names (absent: the office has none), a page of each list asked for, and each
    list's full length."""

    scope: str
    office: str
    levels: list[LevelCounts]
    names: dict[str, tuple[str, str]]
    lists: dict[ListName, list[CenterState]]
    totals: dict[ListName, int]


async def round_completeness(
    pool: asyncpg.Pool,
    round_id: str,
    scope: str,
    office: str | None = None,
    depth: int | None = None,
    lists: Sequence[ListName] = ("missing",),
    limit: int | None = None,
    offset: int = 0,
) -> CompletenessReport:
    """Completeness of ``office`` (default: the whole ``scope``); NotFound for an office
    outside the scope or without centers, as for an unknown round. One snapshot: the lists
    agree with the counts even while reports arrive."""
    office = office or scope
    if path_problem(office) is not None or not in_scope(office, scope):
        raise NotFound(office)
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        if await repository.get_round(conn, round_id) is None:
            raise NotFound(round_id)
        levels = roll_up(await repository.office_counts(conn, round_id, office), office, depth)
        if not levels:
            raise NotFound(office)
        names = await offices.names(conn, [level.office_path for level in levels])
        pages = {
            name: await repository.center_list(conn, round_id, office, name, limit, offset)
            for name in lists
        }
    top = levels[0]  # office itself: every other level's path starts with its
    return CompletenessReport(
        scope=scope,
        office=office,
        levels=levels,
        names=names,
        lists=pages,
        totals={name: top.list_total(name) for name in lists},
    )
