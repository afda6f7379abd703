"""Evidence files on the pages (spec §10): a center uploads them per checklist item from
the report form and removes them; whoever may read the report downloads them.

Without script, an item's upload and remove buttons post the whole report form (their
``formaction``): the draft is saved first, then the page comes back to the item with the
file listed or intake's refusal next to it. With script (static/js/portal.js) a file goes
alone (XMLHttpRequest, with a progress bar) and the answer is JSON with the item's new list.

An upload is read as Starlette parses it (a file over 1 MiB is spooled to disk) and streamed
on to intake; a post larger than one file may be is refused from its Content-Length."""

import re
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import FormData, UploadFile

from services.portal.adapters.intake import NotFound
from services.portal.adapters.repository import Session
from services.portal.domain.evidence import IMAGE_TYPES, MAX_UPLOAD_BYTES, attached, type_name
from services.portal.domain.report_form import ReportForm, upload_control
from services.portal.domain.rounds import CenterRound
from services.portal.entrypoints.reports import (
    SignInFirst,
    center_session,
    keep_form,
    services_of,
)
from services.portal.entrypoints.web import CSRF_FIELD, CSRF_HEADER, Page, page_of, text_fields
from services.portal.handlers import evidence as handlers
from services.portal.handlers import reports as report_handlers

router = APIRouter(include_in_schema=False)
Current = Annotated[Page, Depends(page_of)]
DRAIN_LIMIT = 128 * 1024 * 1024
# the shapes of shared/submission.py's round ids and item codes (they go into addresses)
ROUND_ID = re.compile(r"FY\d{4}-(H1|FY)")
ITEM_CODE = re.compile(r"[A-Z][A-Z0-9_-]{0,15}")
# a report form posts a (usually empty) file part for each item and a field for each box
MAX_PARTS = 4000


def _checked(round_id: str, item: str) -> None:
    if not ROUND_ID.fullmatch(round_id) or not ITEM_CODE.fullmatch(item):
        raise NotFound(f"{round_id}/{item}")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def back_to_item(round_id: str, item: str, **flash: str | int) -> str:
    query = urlencode({"item": item, **flash})
    return f"/rounds/{round_id}/report?{query}#files-{item}"


async def _drain(request: Request) -> None:
    """Read a refused upload to its end (up to a bound) so that the browser, still sending,
    gets the answer rather than a reset connection; nothing is kept."""
    read = 0
    async for chunk in request.stream():
        read += len(chunk)
        if read > DRAIN_LIMIT:
            break


@dataclass(frozen=True)
class ItemPost:
    """A post to an item's files that may go on: whose, in which round, and the report form
    as posted (None when only the file came, from the script)."""

    session: Session
    current: CenterRound
    form: ReportForm | None


async def _item_post(page: Page, round_id: str, item: str, posted: FormData) -> ItemPost | Response:
    """The checks an upload and a removal share, or the answer that ends the post: a session
    that ended keeps the form for after the next sign-in; a closed round is refused."""
    request = page.request
    fields = text_fields(posted)
    token = request.headers.get(CSRF_HEADER) or fields.get(CSRF_FIELD)
    if page.session is None or not page.csrf_ok(token):
        if _wants_json(request):
            return JSONResponse({"ok": False, "reason": "session_ended"}, status_code=401)
        return await keep_form(page, round_id, fields)
    session = center_session(page)
    pool, intake = services_of(page)
    current = await report_handlers.center_round(pool, intake, session, round_id)
    if not current.can_report(page.round_time):
        return _answer(page, round_id, item, 409, refusal="round_closed")
    form = None
    if CSRF_FIELD in fields and not _wants_json(request):  # the whole report form came
        standard = (await report_handlers.report(pool, intake, session, current)).standard
        form = ReportForm.from_post(standard, fields)
    return ItemPost(session, current, form)


@router.post("/rounds/{round_id}/items/{item}/evidence")
async def upload(page: Current, round_id: str, item: str) -> Response:
    _checked(round_id, item)
    request = page.request
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_UPLOAD_BYTES:
        await _drain(request)
        return _answer(page, round_id, item, 413, refusal="file_too_large")
    posted = await request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS)
    try:
        checked = await _item_post(page, round_id, item, posted)
        if not isinstance(checked, ItemPost):
            return checked
        uploads = [u for u in posted.getlist(upload_control(item)) if isinstance(u, UploadFile)]
        pool, intake = services_of(page)
        done = await handlers.attach(
            pool, intake, checked.session, checked.current, item, checked.form, uploads, page.now
        )
    finally:
        await posted.close()
    status = 200 if not done.refusal else _status_of(done.refusal)
    return await _answer_with_list(
        page, round_id, item, status, done.refusal, done.refused_name, len(done.added)
    )


@router.post("/evidence/{file_id}/delete")
async def remove(page: Current, file_id: str, round: str = "", item: str = "") -> Response:
    _checked(round, item)
    posted = await page.request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS)
    try:
        checked = await _item_post(page, round, item, posted)
        if not isinstance(checked, ItemPost):
            return checked
        pool, intake = services_of(page)
        await handlers.detach(
            pool, intake, checked.session, checked.current, item, checked.form, file_id, page.now
        )
    finally:
        await posted.close()  # the form's other items' files, spooled
    return await _answer_with_list(page, round, item, 200, removed=1)


def _status_of(refusal: str) -> int:
    return {
        "file_too_large": 413,
        "quota_exceeded": 413,
        "unsupported_type": 415,
        "too_many_files": 409,
        "round_closed": 409,
        "unavailable": 503,
        "no_file": 422,
    }.get(refusal, 422)


def _answer(page: Page, round_id: str, item: str, status: int, refusal: str) -> Response:
    if _wants_json(page.request):
        message = page.t(f"evidence.refused.{refusal}")
        return JSONResponse({"ok": False, "error": message}, status_code=status)
    return page.redirect(back_to_item(round_id, item, error=refusal))


async def _answer_with_list(
    page: Page,
    round_id: str,
    item: str,
    status: int,
    refusal: str = "",
    name: str = "",
    added: int = 0,
    removed: int = 0,
) -> Response:
    if not _wants_json(page.request):
        flash: dict[str, str | int] = {"error": refusal, "file": name} if refusal else {}
        if added:
            flash["added"] = added
        if removed:
            flash["removed"] = removed
        return page.redirect(back_to_item(round_id, item, **flash))
    session = center_session(page)
    pool, intake = services_of(page)
    current = await report_handlers.center_round(pool, intake, session, round_id)
    report = await report_handlers.report(pool, intake, session, current)
    files = await handlers.files_of(intake, session, round_id)
    html = page.fragment(
        "_evidence_files.html",
        round_id=round_id,
        item_code=item,
        files=attached(files, report.form.items[item].files),
        type_name=type_name,
    )
    body: dict[str, object] = {"ok": not refusal, "html": html}
    if refusal:
        body["error"] = (f"{name}: " if name else "") + page.t(f"evidence.refused.{refusal}")
    elif added:
        body["message"] = page.t("evidence.added", n=added)
    else:
        body["message"] = page.t("evidence.removed")
    return JSONResponse(body, status_code=status)


@router.get("/evidence/{file_id}")
async def download(page: Current, file_id: str) -> Response:
    """The file as intake serves it: an attachment with its name, never shown inline."""
    session = page.session
    if session is None:
        raise SignInFirst(page.request.url.path)
    _, intake = services_of(page)
    stream = await intake.evidence_content(session.intake_token, file_id)
    headers = {
        "Content-Disposition": stream.disposition
        if stream.disposition.startswith("attachment")
        else "attachment",
    }
    if stream.length is not None:
        headers["Content-Length"] = str(stream.length)
    if stream.etag:
        headers["ETag"] = stream.etag
    return StreamingResponse(stream.chunks, media_type=stream.content_type, headers=headers)


@router.get("/evidence/{file_id}/thumbnail")
async def thumbnail(page: Current, file_id: str) -> Response:
    """An image file shown in the page (scaled by the stylesheet); only the image types,
    typed by intake from the content, in a sandbox; other files have none (404)."""
    session = page.session
    if session is None:
        raise SignInFirst(page.request.url.path)
    _, intake = services_of(page)
    found = await intake.evidence_file(session.intake_token, file_id)
    if found.get("content_type") not in IMAGE_TYPES:
        raise NotFound(file_id)
    stream = await intake.evidence_content(session.intake_token, file_id)
    headers = {
        "Content-Disposition": "inline",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    if stream.length is not None:
        headers["Content-Length"] = str(stream.length)
    return StreamingResponse(stream.chunks, media_type=found["content_type"], headers=headers)
