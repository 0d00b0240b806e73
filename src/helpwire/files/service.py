"""Rules of the files domain: upload, attach to a comment, who may download."""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Sequence
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import User
from helpwire.db.base import new_uuid, utcnow
from helpwire.files.models import File
from helpwire.files.storage import FileStorage, TooLarge
from helpwire.problems import NotFound, PayloadTooLarge, ValidationProblem

_UNSAFE_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f/\\]")


def clean_filename(name: str | None) -> str:
    """A file name safe to store and to send back in Content-Disposition."""
    name = _UNSAFE_NAME_CHARS.sub("_", (name or "").strip()).strip(". ")
    if not name:
        return "file"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 250 - len(ext)] + dot + ext) if dot and len(ext) < 20 else name[:255]
    return name


async def save_upload(
    *,
    storage: FileStorage,
    uploader_id: int,
    filename: str | None,
    content_type: str | None,
    source: BinaryIO,
    max_bytes: int,
) -> File:
    """Store the bytes and return the (not yet added) row that will describe them.

    Kept apart from :func:`record_upload` so that a slow upload never holds a database
    transaction open."""
    name = clean_filename(filename)
    if not content_type or content_type == "application/octet-stream":
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    file_id = new_uuid()
    try:
        blob = await storage.save(key=file_id, source=source, max_bytes=max_bytes)
    except TooLarge:
        raise PayloadTooLarge(
            f"the file is larger than the limit of {max_bytes} bytes", max_bytes=max_bytes
        ) from None
    return File(
        id=file_id,
        filename=name,
        content_type=content_type[:255],
        size=blob.size,
        sha256=blob.sha256,
        storage_key=blob.key,
        uploader_id=uploader_id,
        created_at=utcnow(),
    )


async def record_upload(session: AsyncSession, *, row: File) -> File:
    session.add(row)
    await session.flush()
    return row


async def files_for_attachment(
    session: AsyncSession,
    *,
    uploader: User,
    file_ids: Sequence[str],
    limit: int,
    field: str = "files",
) -> list[File]:
    """The uploader's unattached files named by ``file_ids``, in the order given."""
    wanted = list(dict.fromkeys(file_ids))
    if len(wanted) > limit:
        raise ValidationProblem.for_field(
            field, f"at most {limit} files per comment, got {len(wanted)}", "too_many"
        )
    if not wanted:
        return []
    rows = (await session.scalars(select(File).where(File.id.in_(wanted)))).all()
    by_id = {row.id: row for row in rows}
    unusable = [
        fid
        for fid in wanted
        if fid not in by_id or by_id[fid].uploader_id != uploader.id or by_id[fid].comment_id
    ]
    if unusable:
        raise ValidationProblem.for_field(
            field,
            "unknown, not uploaded by you, or already attached: " + ", ".join(unusable),
            "unknown_file",
        )
    return [by_id[fid] for fid in wanted]


async def get_file_row(session: AsyncSession, *, file_id: str) -> File:
    row = await session.get(File, file_id)
    if row is None:
        raise NotFound(f"no file {file_id}")
    return row
