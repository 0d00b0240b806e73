"""Copying every stored file from one storage backend to another
(``helpwire files migrate``).

The files table says what should exist: for each row, the bytes are copied unless the
target already gives back exactly the recorded size and SHA-256. So a run can be stopped
and started again, and a second run after the switch picks up what was uploaded meanwhile.
A file is spooled to a temporary file on its way (never held in memory), its source bytes
checked against the row before they are written, and the written copy checked again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, BinaryIO, cast

import anyio
from sqlalchemy import func, select

from helpwire.db.session import Database
from helpwire.files.models import File
from helpwire.files.storage import FileStorage, Measure, TooLarge

PAGE = 200
SPOOL_IN_MEMORY = 1024 * 1024


@dataclass(frozen=True)
class Wanted:
    """What a file row says the stored bytes are."""

    id: str
    key: str
    size: int
    sha256: str


@dataclass
class Tally:
    total: int = 0
    copied: int = 0
    present: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # file id: why

    @property
    def done(self) -> int:
        return self.copied + self.present + len(self.failed)


class Mismatch(Exception):
    """The bytes are not those the file row records."""


async def copy_all(
    database: Database,
    *,
    source: FileStorage,
    target: FileStorage,
    progress: Callable[[Tally], None] | None = None,
) -> Tally:
    """Copy every file the files table names from ``source`` to ``target``."""
    tally = Tally(total=await _count(database))
    after = ""
    while page := await _page(database, after=after):
        for wanted in page:
            await _copy_one(wanted, source=source, target=target, tally=tally)
            if progress is not None:
                progress(tally)
        after = page[-1].id
    return tally


async def _count(database: Database) -> int:
    async with database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(File)) or 0)


async def _page(database: Database, *, after: str) -> list[Wanted]:
    """The next rows in order of id, each page read in a short transaction of its own."""
    query = (
        select(File.id, File.storage_key, File.size, File.sha256)
        .where(File.id > after)
        .order_by(File.id)
        .limit(PAGE)
    )
    async with database.reader() as session:
        rows = (await session.execute(query)).all()
    return [Wanted(id=r.id, key=r.storage_key, size=r.size, sha256=r.sha256) for r in rows]


async def _copy_one(
    wanted: Wanted, *, source: FileStorage, target: FileStorage, tally: Tally
) -> None:
    if await holds(target, wanted):
        tally.present += 1
        return
    try:
        await _copy(wanted, source=source, target=target)
    except FileNotFoundError:
        tally.failed[wanted.id] = "not in the source storage"
    except Mismatch as exc:
        tally.failed[wanted.id] = str(exc)
    else:
        tally.copied += 1


async def holds(storage: FileStorage, wanted: Wanted) -> bool:
    """Whether ``storage`` gives back exactly the recorded bytes (read through, hashed)."""
    try:
        found = await _drain(storage, wanted.key, None, limit=wanted.size)
    except (FileNotFoundError, Mismatch):
        return False
    return found == (wanted.size, wanted.sha256)


async def _copy(wanted: Wanted, *, source: FileStorage, target: FileStorage) -> None:
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        size, sha256 = await _drain(source, wanted.key, spool, limit=wanted.size)
        if (size, sha256) != (wanted.size, wanted.sha256):
            raise Mismatch(
                f"the source holds {size} bytes with SHA-256 {sha256}, "
                f"not the recorded {wanted.size} bytes with SHA-256 {wanted.sha256}"
            )
        await anyio.to_thread.run_sync(spool.seek, 0)
        try:
            # A save only reads from its source, which a spooled file does well.
            stored = await target.save(
                key=wanted.key, source=cast(BinaryIO, spool), max_bytes=wanted.size
            )
        except TooLarge:  # the spool was checked: only a target that misreads gets here
            raise Mismatch("the target storage stored more bytes than were sent") from None
    if (stored.size, stored.sha256) != (wanted.size, wanted.sha256):
        await target.delete(wanted.key)
        raise Mismatch("the target storage stored other bytes than were sent")


async def _drain(
    storage: FileStorage, key: str, sink: IO[bytes] | None, *, limit: int
) -> tuple[int, str]:
    """Size and SHA-256 of the stored bytes, written to ``sink`` when there is one;
    Mismatch as soon as they run past ``limit``."""
    measure = Measure(limit)
    chunks = storage.open_chunks(key)
    try:
        async for chunk in chunks:
            try:
                measure.add(chunk)
            except TooLarge:
                raise Mismatch(f"the stored bytes are longer than the recorded {limit}") from None
            if sink is not None:
                await anyio.to_thread.run_sync(sink.write, chunk)
    finally:
        # Left early, a generator would keep its file open until it is collected.
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
    return measure.size, measure.sha256
