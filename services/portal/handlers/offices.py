"""A parent office's (or an operator's) view of a round: the completeness of an office's
subtree as intake counts it, the lists of centers, and one center's report read-only.
Intake decides what the session may see: outside its scope everything is NotFound."""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.portal.adapters.intake import IntakeClient, NotFound, Refused
from services.portal.adapters.repository import Session
from services.portal.domain.offices import PAGE_SIZE, Paging, current_round, list_totals, trail
from shared.standards import Standard


def may_read_offices(session: Session) -> bool:
    return session.kind in ("office", "operator")


async def scope_of(intake: IntakeClient, session: Session, round_id: str) -> str:
    """The office the session acts for (an operator's is the whole registry)."""
    if session.office_path:
        return session.office_path
    found = await intake.completeness(session.intake_token, round_id, depth=0)
    return str(found["scope"])


async def home(intake: IntakeClient, session: Session, now: datetime) -> str:
    """Where an office's pages start: its scope in the current round."""
    round_id = current_round(await intake.rounds(session.intake_token), now)
    if round_id is None:
        raise NotFound("no round yet")
    return f"/office/{round_id}/{await scope_of(intake, session, round_id)}"


@dataclass(frozen=True)
class Crumb:
    path: str
    name_th: str | None
    name_en: str | None


@dataclass(frozen=True)
class Completeness:
    """What an office's page shows: its level, the offices right below, and one list's page."""

    round_id: str
    rounds: list[dict[str, Any]]
    office: dict[str, Any]
    children: list[dict[str, Any]]
    crumbs: list[Crumb]
    list_name: str
    rows: list[dict[str, Any]]
    totals: dict[str, int]
    paging: Paging


def split_levels(answer: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The office's own level and the levels right below it."""
    path = answer["office"]
    office = next((level for level in answer["levels"] if level["office_path"] == path), None)
    if office is None:
        raise NotFound(path)
    children = [level for level in answer["levels"] if level["depth"] == office["depth"] + 1]
    return office, children


async def live(intake: IntakeClient, session: Session, round_id: str, path: str) -> Any:
    """The office's level and the levels right below it, no lists (what the page renews)."""
    answer = await intake.completeness(session.intake_token, round_id, path, depth=1)
    return split_levels(answer)


async def completeness(
    intake: IntakeClient,
    session: Session,
    round_id: str,
    path: str,
    list_name: str,
    page: int,
) -> Completeness:
    token = session.intake_token
    paging = Paging(page, 0)
    answer, rounds = await asyncio.gather(
        intake.completeness(
            token,
            round_id,
            path,
            depth=1,
            lists=(list_name,),
            limit=PAGE_SIZE,
            offset=paging.offset,
        ),
        intake.rounds(token),
    )
    office, children = split_levels(answer)
    totals = list_totals(office)
    crumbs = await _crumbs(intake, token, answer["scope"], office)
    return Completeness(
        round_id=round_id,
        rounds=rounds,
        office=office,
        children=children,
        crumbs=crumbs,
        list_name=list_name,
        rows=answer.get(list_name, []),
        totals=totals,
        paging=Paging(page, totals[list_name]),
    )


async def _crumbs(
    intake: IntakeClient, token: str, scope: str, office: dict[str, Any]
) -> list[Crumb]:
    """From the session's scope down to the office, with the offices' names where intake
    tells them (the office's own from its level)."""
    above = trail(scope, office["office_path"])[:-1]
    named = await asyncio.gather(*(_office_names(intake, token, path) for path in above))
    return [Crumb(p, th, en) for p, (th, en) in zip(above, named, strict=True)] + [
        Crumb(office["office_path"], office.get("name_th"), office.get("name_en"))
    ]


async def _office_names(intake: IntakeClient, token: str, path: str) -> tuple[Any, Any]:
    with contextlib.suppress(NotFound, Refused):
        found = await intake.office(token, path)
        return found.get("name_th"), found.get("name_en")
    return None, None


@dataclass(frozen=True)
class CenterReport:
    """A center's report in a round as an office reads it: its state, and the version
    chosen (the latest by default) with the standard it answers."""

    center: dict[str, Any]
    state: dict[str, Any]
    submission: dict[str, Any] | None
    version: dict[str, Any] | None
    standard: Standard | None


async def center_report(
    intake: IntakeClient, session: Session, center_id: str, round_id: str, number: int | None
) -> CenterReport:
    token = session.intake_token
    center, rounds = await asyncio.gather(
        intake.center(token, center_id), intake.center_rounds(token, center_id)
    )
    state = next((r for r in rounds if r["round"]["id"] == round_id), None)
    if state is None:
        raise NotFound(f"{center_id}/{round_id}")
    if state["submission_id"] is None:
        return CenterReport(center, state, None, None, None)
    submission_id = str(state["submission_id"])
    found = await intake.submission(token, submission_id)
    chosen = await intake.version(token, submission_id, number or found["versions"][-1]["version"])
    standard = await intake.standard(token, chosen["report"]["checklist"]["standard"])
    return CenterReport(center, state, found, chosen, standard)
