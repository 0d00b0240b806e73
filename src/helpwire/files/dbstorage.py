"""File bytes kept in the database itself (HELPWIRE_FILES_STORAGE=database): every process
of an installation, on any machine, reads and writes the same files with nothing more to
run or share than the database.

A file is a ``file_blobs`` row and its ``file_chunks``. Neither direction ever holds a
whole file in memory: a save reads the source a chunk at a time and writes each chunk in a
short transaction of its own (on SQLite the one writer is taken for a moment per chunk, and
other writers go in between); a download reads one chunk per query, so a slow client holds
no transaction and no pooled connection between chunks. The blob is marked complete in the
transaction of its last chunk, and only a complete blob can be read.

A save that is abandoned (the process dies, the database goes away) leaves an incomplete
blob; a blob stored for an upload whose file row was never recorded has no ``files`` row
naming it. Both are orphans: :func:`collect_orphans`, run by the hourly housekeeping,
deletes them once they are a day old.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import BinaryIO

import anyio
from sqlalchemy import delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.files.models import File, FileBlob, FileChunk
from helpwire.files.storage import Measure, StoredBlob

# Large enough that a 20 MiB file is 40 statements, small enough that a chunk is a modest
# parameter for either driver and a download holds little memory per client.
DB_CHUNK = 512 * 1024

# An upload records its file row a moment after its bytes are stored, and a save writes
# its chunks within seconds: a day leaves room for clocks that disagree between machines.
ORPHAN_GRACE = timedelta(days=1)
# Orphans deleted per housekeeping run, so that one run is a short transaction even when
# each orphan is a large file (on SQLite it holds the one writer).
ORPHANS_PER_RUN = 50
# Longest a failed save spends deleting what it wrote.
CLEANUP_SECONDS = 10.0


class DatabaseStorage:
    """Files as rows of the installation's own database."""

    def __init__(self, database: Database, *, chunk_size: int = DB_CHUNK) -> None:
        self.database = database
        self.chunk_size = chunk_size

    async def save(self, *, key: str, source: BinaryIO, max_bytes: int) -> StoredBlob:
        try:
            return await self._write_all(key, source, max_bytes)
        except BaseException:
            # Nothing of a failed save is kept, as with a local file: even a cancelled one
            # cleans up, for a bounded time. If that fails too (the database is what
            # failed), the rows already written stay behind as an incomplete blob, which
            # the housekeeping collects.
            with anyio.move_on_after(CLEANUP_SECONDS, shield=True), contextlib.suppress(Exception):
                await self.delete(key)
            raise

    async def _write_all(self, key: str, source: BinaryIO, max_bytes: int) -> StoredBlob:
        measure = Measure(max_bytes)
        chunk = await anyio.to_thread.run_sync(source.read, self.chunk_size)
        seq = 0
        while True:
            measure.add(chunk)
            # One chunk ahead: the transaction of the last chunk also completes the blob,
            # so a file of one chunk is stored in one transaction.
            following = (
                await anyio.to_thread.run_sync(source.read, self.chunk_size) if chunk else b""
            )
            async with self.database.writing_or_joined() as session:
                if seq == 0:
                    await _start_blob(session, key)
                if chunk:
                    await session.execute(insert(FileChunk).values(key=key, seq=seq, data=chunk))
                if not following:
                    await session.execute(
                        update(FileBlob)
                        .where(FileBlob.key == key)
                        .values(size=measure.size, sha256=measure.sha256, complete=True)
                    )
            if not following:
                return measure.blob(key)
            chunk, seq = following, seq + 1

    async def open_chunks(self, key: str) -> AsyncIterator[bytes]:
        """The bytes, a chunk per query; FileNotFoundError when no complete blob has the
        key, as a local file that is not there."""
        async with self.database.reader() as session:
            size = await session.scalar(
                select(FileBlob.size).where(FileBlob.key == key, FileBlob.complete.is_(True))
            )
        if size is None:
            raise FileNotFoundError(f"no stored file {key}")
        sent, seq = 0, 0
        while sent < size:
            async with self.database.reader() as session:
                data = await session.scalar(
                    select(FileChunk.data).where(FileChunk.key == key, FileChunk.seq == seq)
                )
            if data is None:  # deleted while it was being read
                raise FileNotFoundError(f"stored file {key} ends after {sent} bytes")
            sent, seq = sent + len(data), seq + 1
            yield data

    async def delete(self, key: str) -> None:
        async with self.database.writing_or_joined() as session:
            await _forget(session, [key])


async def _start_blob(session: AsyncSession, key: str) -> None:
    """A new, incomplete blob under ``key``, replacing whatever was stored under it (as a
    local save replaces the file): a copy that was cut short is written again whole."""
    await _forget(session, [key])
    await session.execute(
        insert(FileBlob).values(key=key, size=0, complete=False, created_at=utcnow())
    )


async def _forget(session: AsyncSession, keys: list[str]) -> None:
    # The chunks first, by name: no reliance on the foreign key's cascade being enforced.
    await session.execute(delete(FileChunk).where(FileChunk.key.in_(keys)))
    await session.execute(delete(FileBlob).where(FileBlob.key.in_(keys)))


async def forget_blobs(session: AsyncSession, keys: list[str]) -> None:
    """Delete the blobs under ``keys`` in the caller's transaction (none there: nothing)."""
    if keys:
        await _forget(session, keys)


async def collect_orphans(
    session: AsyncSession, *, now: datetime | None = None, grace: timedelta = ORPHAN_GRACE
) -> int:
    """Delete blobs older than ``grace`` that are incomplete or that no file row names;
    at most ORPHANS_PER_RUN of them. How many were deleted."""
    named = exists().where(File.storage_key == FileBlob.key)
    stale = (
        select(FileBlob.key)
        .where(
            FileBlob.created_at < (now or utcnow()) - grace,
            or_(FileBlob.complete.is_(False), ~named),
        )
        .order_by(FileBlob.created_at)
        .limit(ORPHANS_PER_RUN)
    )
    keys = list(await session.scalars(stale))
    if keys:
        await _forget(session, keys)
    return len(keys)
