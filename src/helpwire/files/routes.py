"""Upload and download of files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import StreamingResponse

from helpwire.api.deps import (
    CurrentPrincipal,
    Session,
    get_principal,
    get_settings,
    read_outside_transaction,
    write_outside_transaction,
)
from helpwire.api.responses import PROBLEM_RESPONSES, problem_responses
from helpwire.files.models import File
from helpwire.files.service import get_file_row, record_upload, save_upload
from helpwire.files.storage import FileStorage
from helpwire.problems import (
    FileBytesMissing,
    MalformedRequest,
    UnsupportedMediaType,
    ValidationProblem,
)
from helpwire.tickets.downloads import check_can_download
from helpwire.tickets.schemas import FileOut
from helpwire.tickets.serialize import file_out

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["files"], responses=PROBLEM_RESPONSES)

# Types a browser could run or render as a page of ours are always downloaded, never shown.
_INLINE_SAFE = (
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
    "application/pdf",
)


async def _opened(storage: FileStorage, row: File) -> AsyncIterator[bytes]:
    """The file's chunks, the first already read: a file whose bytes are missing is a
    FileBytesMissing problem before the response starts, not a download cut off after
    its headers (200 and a Content-Length) were sent."""
    chunks = storage.open_chunks(row.storage_key)
    try:
        first = await anext(chunks, b"")
    except FileNotFoundError:
        logger.error("file %s has no bytes in the file storage", row.id)
        raise FileBytesMissing(
            f"the bytes of file {row.id} are not in this server's file storage"
        ) from None

    async def all_chunks() -> AsyncIterator[bytes]:
        if first:
            yield first
        async for chunk in chunks:
            yield chunk

    return all_chunks()


async def file_response(
    storage: FileStorage, row: File, *, headers: dict[str, str]
) -> StreamingResponse:
    """The file's bytes, streamed: shown in the browser only when its type is safe to
    show, else downloaded; never sniffed into another type. ``headers`` add to that."""
    disposition = "inline" if row.content_type in _INLINE_SAFE else "attachment"
    return StreamingResponse(
        await _opened(storage, row),
        media_type=row.content_type,
        headers={
            "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.filename)}",
            "Content-Length": str(row.size),
            "X-Content-Type-Options": "nosniff",
            **headers,
        },
    )


def storage_of(request: Request) -> FileStorage:
    storage: FileStorage = request.app.state.storage
    return storage


@router.post(
    "/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    summary="Upload a file (multipart field `file`)",
    responses=problem_responses(415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }
                }
            },
        }
    },
)
async def upload_file(request: Request) -> FileOut:
    """Three short steps instead of one long transaction: authenticate, store the bytes
    with no transaction open, then record the file in a transaction of its own."""
    settings = get_settings(request)
    async with read_outside_transaction(request) as session:
        principal = await get_principal(request, session)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise UnsupportedMediaType("send the file as multipart/form-data in a field named 'file'")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # multipart errors come in several types; all mean a bad body
        raise MalformedRequest(f"the multipart body cannot be read: {exc}") from None
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ValidationProblem.for_field(
            "file", "a file is required in the multipart field 'file'"
        )
    storage = storage_of(request)
    try:
        row = await save_upload(
            storage=storage,
            uploader_id=principal.user.id,
            filename=upload.filename,
            content_type=upload.content_type,
            source=upload.file,
            max_bytes=settings.max_file_bytes,
        )
    finally:
        await form.close()
    try:
        async with write_outside_transaction(request) as session:
            await record_upload(session, row=row)
    except BaseException:
        await storage.delete(row.storage_key)
        raise
    return file_out(row)


@router.get(
    "/files/{file_id}",
    summary="Download a file",
    # The answer has the file's own media type (an image, a PDF, text, anything).
    responses={
        200: {
            "description": "The file's bytes, with the media type it was uploaded with.",
            # OpenAPI 3.1 describes raw bytes by the media type alone, with no schema.
            "content": {"*/*": {}},
        }
    },
    response_class=StreamingResponse,
)
async def download_file(
    file_id: str, request: Request, session: Session, principal: CurrentPrincipal
) -> StreamingResponse:
    row = await get_file_row(session, file_id=file_id)
    await check_can_download(session, actor=principal, row=row)
    return await file_response(
        storage_of(request),
        row,
        headers={"ETag": f'"{row.sha256}"', "Cache-Control": "private, max-age=3600"},
    )
