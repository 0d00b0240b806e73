"""Pieces every part of the UI uses: file downloads, uploads from forms, Markdown preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile

from helpwire.accounts.actor import Actor
from helpwire.api.deps import Session, get_settings
from helpwire.api.routing import TransactionalRoute
from helpwire.files.routes import file_response, storage_of
from helpwire.files.service import get_file_row, record_upload, save_upload
from helpwire.problems import ValidationProblem
from helpwire.tickets.downloads import check_can_download
from helpwire.tickets.models import BodyFormat
from helpwire.tickets.rendering import render_body
from helpwire.tickets.schemas import MAX_BODY_CHARS
from helpwire.web.auth import Web, WebContext, checked_form_outside_transaction

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


def form_text(form: FormData, name: str, *, default: str = "") -> str:
    value = form.get(name)
    return value if isinstance(value, str) else default


def form_files(form: FormData, name: str = "files") -> list[UploadFile]:
    """The files posted in ``name``, leaving out the empty part a browser sends when the
    picker was left empty."""
    return [
        item
        for item in form.getlist(name)
        if isinstance(item, UploadFile) and (item.filename or item.size)
    ]


async def store_form_files(
    request: Request, session: AsyncSession, *, actor: Actor, uploads: list[UploadFile]
) -> list[str]:
    """Stores each posted file and records it in the request's transaction; the ids can
    then be attached to a ticket or comment in the same transaction. If the request then
    fails, the web error page removes the stored bytes again (web/errors.py)."""
    settings = get_settings(request)
    if len(uploads) > settings.max_files_per_comment:
        raise ValidationProblem.for_field(
            "files", f"at most {settings.max_files_per_comment} files at a time"
        )
    storage = storage_of(request)
    ids: list[str] = []
    stored: list[str] = []
    try:
        for upload in uploads:
            row = await save_upload(
                storage=storage,
                uploader_id=actor.user.id,
                filename=upload.filename,
                content_type=upload.content_type,
                source=upload.file,
                max_bytes=settings.max_file_bytes,
            )
            stored.append(row.storage_key)
            request.state.stored_upload_keys = [*stored]
            await record_upload(session, row=row)
            ids.append(row.id)
    except BaseException:
        for key in stored:
            await storage.delete(key)
        raise
    return ids


def is_page_visit(request: Request) -> bool:
    """Whether a GET is someone opening the page, so it may mark the ticket read.

    A page can be fetched as something else: Markdown keeps relative image sources and
    the CSP allows same-origin images, so a ticket body ``![x](/agent/tickets/7)`` makes
    the browser of whoever reads it GET ticket 7 as an image. Browsers say what a fetch
    is for in ``Sec-Fetch-Dest``; only a "document" (a navigation) counts as reading.
    Clients that send no such header (older browsers, scripts) are taken at their word.
    """
    destination = request.headers.get("sec-fetch-dest")
    return destination is None or destination.lower() == "document"


@router.get("/files/{file_id}/{filename}")
async def download(file_id: str, request: Request, session: Session, web: Web) -> StreamingResponse:
    row = await get_file_row(session, file_id=file_id[:64])
    await check_can_download(session, actor=web.actor, row=row)
    return await file_response(
        storage_of(request),
        row,
        headers={
            # Nothing the file holds may run as a page of ours.
            "Content-Security-Policy": "default-src 'none'; sandbox",
            # Not kept by the browser: after signing out (or being signed out by an admin)
            # a shared computer must not still hand out the files.
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/ui/preview")
async def preview(
    checked: Annotated[tuple[WebContext, FormData], Depends(checked_form_outside_transaction)],
) -> JSONResponse:
    """Markdown as it will be shown: rendered and sanitized exactly like a stored comment.
    Writes nothing, so it opens no writing transaction."""
    _web, form = checked
    body = form_text(form, "body")[:MAX_BODY_CHARS]
    _stored, html = render_body(body, BodyFormat.MARKDOWN)
    return JSONResponse({"html": html}, headers={"Cache-Control": "no-store"})
