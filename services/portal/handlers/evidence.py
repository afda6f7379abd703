"""Evidence files of a report (spec §10): uploaded to intake for a checklist item and
recorded in the draft (which files belong to which item: what the submission will list),
removed from it, and listed for the pages. Intake holds the files and decides every limit;
the draft holds only their ids."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
from starlette.datastructures import UploadFile

from services.portal.adapters.intake import IntakeClient, IntakeUnavailable, NotFound, Refused
from services.portal.adapters.repository import Session
from services.portal.domain.evidence import refusal_of
from services.portal.domain.report_form import ReportForm
from services.portal.domain.rounds import CenterRound
from services.portal.handlers import reports

CHUNK = 64 * 1024
log = logging.getLogger(__name__)


async def files_of(
    intake: IntakeClient, session: Session, round_id: str, center_id: str | None = None
) -> dict[str, dict[str, Any]]:
    """The center's files in the round by id (a center's session: its own)."""
    found = await intake.evidence_list(session.intake_token, round_id, center_id)
    return {entry["file_id"]: entry for entry in found}


@dataclass
class Attached:
    """What an upload did: the files now attached, or intake's refusal of one."""

    added: list[dict[str, Any]] = field(default_factory=list)
    refusal: str = ""
    refused_name: str = ""


async def attach(
    pool: asyncpg.Pool,
    intake: IntakeClient,
    session: Session,
    current: CenterRound,
    item: str,
    posted: ReportForm | None,
    uploads: list[UploadFile],
    now: datetime,
) -> Attached:
    """Upload ``uploads`` for ``item`` one after another and record them in the draft. A
    form posted with them (no script) is saved first, so nothing typed is lost whatever
    intake answers; the first refusal stops the rest."""
    report = await reports.report(pool, intake, session, current)
    form = posted or report.form
    if item not in form.items:
        raise NotFound(item)
    standard, round_id = report.standard, current.round_id
    if posted is not None:
        await reports.save_draft(pool, session, round_id, standard, form, now)
    done = Attached()
    uploads = [u for u in uploads if u.filename or (u.size or 0) > 0]
    if not uploads:
        done.refusal = "no_file"
        return done
    ids = list(form.items[item].files)
    for upload in uploads:
        name = upload.filename or "file"
        try:
            found = await intake.upload_evidence(
                session.intake_token, round_id, item, name, _chunks(upload), upload.size or 0
            )
        except Refused as refusal:
            done.refusal, done.refused_name = refusal_of(refusal.status, refusal.code), name
            break
        except IntakeUnavailable:
            done.refusal, done.refused_name = "unavailable", name
            break
        done.added.append(found)
        if found["file_id"] not in ids:
            ids.append(found["file_id"])
    if done.added:
        # the draft as it is now (the script's uploads do not post the form)
        latest = posted or (await reports.report(pool, intake, session, current)).form
        form = latest.with_item_files(item, tuple(ids))
        await reports.save_draft(pool, session, round_id, standard, form, now)
    return done


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    """The spooled file in pieces (Starlette keeps a file over 1 MiB on disk)."""
    await upload.seek(0)
    while chunk := await upload.read(CHUNK):
        yield chunk


async def detach(
    pool: asyncpg.Pool,
    intake: IntakeClient,
    session: Session,
    current: CenterRound,
    item: str,
    posted: ReportForm | None,
    file_id: str,
    now: datetime,
) -> None:
    """Remove a file from ``item``'s list in the draft, then from intake unless a submitted
    version lists it (intake's 409: it stays with that version)."""
    report = await reports.report(pool, intake, session, current)
    form = posted or report.form
    if item not in form.items:
        raise NotFound(item)
    files = form.items[item].files
    form = form.with_item_files(item, tuple(f for f in files if f != file_id))
    await reports.save_draft(pool, session, current.round_id, report.standard, form, now)
    if file_id not in files:
        return
    try:
        await intake.delete_evidence(session.intake_token, file_id)
    except (NotFound, Refused):  # gone already, or kept by a version sent earlier
        pass
    except IntakeUnavailable as error:  # off the report; intake keeps it unlisted
        log.warning("evidence %s not deleted: %s", file_id, error)
