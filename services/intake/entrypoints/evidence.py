"""Evidence files over HTTP (spec §10): a center uploads the raw bytes of a file for a
checklist item of a round; the center, the offices above it and operators list and download
them; the center deletes one no submitted version references."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from services.intake.adapters import evidence as files
from services.intake.domain.evidence import ALLOWED_TYPES, MAX_NAME_CHARS, content_disposition
from services.intake.entrypoints.auth import Caller, center_of, remote_addr
from services.intake.entrypoints.openapi import problem, problems
from services.intake.entrypoints.problems import Problem
from services.intake.handlers import evidence
from shared.object_storage import ObjectStorage

router = APIRouter(prefix="/v1", tags=["evidence"], responses=problems(404))

# The one route whose body is not read by the body size limit: it streams it itself.
UPLOAD_PATH = r"^/v1/rounds/[^/]+/items/[^/]+/evidence$"


class EvidenceFileView(BaseModel):
    file_id: UUID
    round_id: str
    center_id: str
    item_code: str
    name: str = Field(description="For display only (NFC, no control characters)")
    content_type: str = Field(description="Decided from the content: " + ", ".join(ALLOWED_TYPES))
    size: int
    sha256: str
    uploaded_at: datetime
    referenced: bool = Field(description="A submitted version references it (no delete)")


class EvidenceFiles(BaseModel):
    files: list[EvidenceFileView]


LENGTH_REQUIRED = Problem(
    411,
    "length_required",
    "Send the file with a Content-Length",
    "ต้องระบุ Content-Length ของไฟล์",
    [{"field": "Content-Length", "reason": "required"}],
)

UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes (PDF, JPEG, PNG or WebP, at most 10 MiB); the type is"
        " decided from the content, whatever Content-Type says.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _storage(request: Request) -> ObjectStorage:
    storage: ObjectStorage = request.app.state.storage
    return storage


def _declared_size(request: Request) -> int:
    declared = request.headers.get("content-length")
    if declared is None:
        raise LENGTH_REQUIRED
    if not declared.isdigit():
        raise Problem(
            400,
            "invalid_header",
            "Content-Length is not a number of bytes",
            "Content-Length ไม่ถูกต้อง",
            [{"field": "Content-Length", "reason": "not a number of bytes"}],
        )
    return int(declared)


@router.post(
    "/rounds/{round_id}/items/{item_code}/evidence",
    status_code=201,
    response_model=EvidenceFileView,
    summary="Upload an evidence file for a checklist item (centers; audited)",
    openapi_extra=UPLOAD_BODY,
    responses={
        200: {
            "description": "The same bytes were uploaded for this item before: that file",
            "model": EvidenceFileView,
        },
        409: problem("The round does not accept reports now, or the item has 20 files"),
        411: problem("No Content-Length"),
        413: problem(
            "The file is larger than 10 MiB, or the center's quota for the round"
            " is used up (code file_too_large or quota_exceeded)"
        ),
        415: problem("The content is not PDF, JPEG, PNG or WebP"),
        503: problem("The database or object storage is unavailable: retry after Retry-After"),
    },
)
async def upload(
    round_id: str,
    item_code: str,
    who: Caller,
    request: Request,
    name: Annotated[str, Query(max_length=4 * MAX_NAME_CHARS, description="The file's name")] = "",
) -> Response:
    center_id = center_of(who)
    state = request.app.state
    runtime = state.runtime
    row, created = await evidence.upload(
        runtime.pool,
        _storage(request),
        state.rounds,
        state.checklist_items,
        state.evidence_limits,
        evidence.Upload(
            center_id=center_id,
            round_id=round_id,
            item_code=item_code,
            name=name,
            declared_size=_declared_size(request),
            actor=who.actor,
            remote_addr=remote_addr(request),
            at=runtime.clock.now(),
        ),
        request.stream(),
    )
    body = EvidenceFileView.model_validate(row.view()).model_dump_json()
    status = 201 if created else 200
    headers = {"Location": f"/v1/evidence/{row.file_id}"}
    return Response(body, status_code=status, media_type="application/json", headers=headers)


@router.get(
    "/rounds/{round_id}/evidence",
    response_model=EvidenceFiles,
    summary="A center's evidence files in a round (the center; offices above it; operators)",
)
async def list_files(
    round_id: str,
    who: Caller,
    request: Request,
    center_id: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    found = await evidence.list_files(request.app.state.runtime.pool, who, round_id, center_id)
    return {"files": [row.view() for row in found]}


@router.get(
    "/evidence/{file_id}",
    response_model=EvidenceFileView,
    summary="An evidence file's metadata (the center; offices above it; operators)",
)
async def get_file(file_id: UUID, who: Caller, request: Request) -> dict[str, Any]:
    return (await evidence.readable_file(request.app.state.runtime.pool, who, file_id)).view()


@router.get(
    "/evidence/{file_id}/content",
    response_class=StreamingResponse,
    summary="An evidence file's bytes, as an attachment (the center; offices above; operators)",
    responses={
        200: {"description": "The file", "content": {t: {} for t in ALLOWED_TYPES}},
        503: problem("The database or object storage is unavailable: retry after Retry-After"),
    },
)
async def download(file_id: UUID, who: Caller, request: Request) -> StreamingResponse:
    row = await evidence.readable_file(request.app.state.runtime.pool, who, file_id)
    # Opened before the answer starts: a missing object or a server that is down is a
    # problem answer, not a broken download.
    stack = AsyncExitStack()
    reader = await stack.enter_async_context(_storage(request).get(files.object_key(row.sha256)))

    async def content() -> AsyncIterator[bytes]:
        async with stack:
            async for chunk in reader.chunks():
                yield chunk

    headers = {
        "Content-Disposition": content_disposition(row.name),
        "X-Content-Type-Options": "nosniff",
        "Content-Length": str(row.size),
        "ETag": f'"{row.sha256}"',
        "Cache-Control": "private, no-cache",
    }
    return StreamingResponse(
        content(),
        media_type=row.content_type,
        headers=headers,
        background=BackgroundTask(stack.aclose),  # also when the body was never started
    )


@router.delete(
    "/evidence/{file_id}",
    status_code=204,
    summary="Delete an evidence file no submitted version references (the center; audited)",
    responses={409: problem("A submitted version references the file (file_referenced)")},
)
async def delete_file(file_id: UUID, who: Caller, request: Request) -> Response:
    center_of(who)
    await evidence.delete(
        request.app.state.runtime.pool, _storage(request), who, file_id, remote_addr(request)
    )
    return Response(status_code=204)
