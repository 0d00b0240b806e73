"""File bytes kept in the database (HELPWIRE_FILES_STORAGE=database), on both engines: the
same answers as the local directory, chunked both ways, and no orphans left for good."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import func, select, update

from helpwire.app import create_app
from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.files.backends import StorageKind, storage_for
from helpwire.files.dbstorage import ORPHAN_GRACE, DatabaseStorage, collect_orphans
from helpwire.files.models import FileBlob, FileChunk
from helpwire.files.storage import FileStorage, TooLarge
from helpwire.housekeeping import job_registry
from helpwire.jobs.registry import JobContext
from helpwire.settings import Settings
from tests.conftest import World, build_world
from tests.files.test_files import FILES, assert_problem, stored_files

CHUNK = 4096  # small chunks: a file of a few dozen KiB is many of them


@pytest.fixture
def storage(database: Database) -> DatabaseStorage:
    return DatabaseStorage(database, chunk_size=CHUNK)


@pytest.fixture(params=["local", "database"])
def any_storage(request: pytest.FixtureRequest, database: Database, settings: Settings) -> Any:
    """Each backend, for the answers both must give alike."""
    kind: StorageKind = request.param
    if kind == "database":
        return DatabaseStorage(database, chunk_size=CHUNK)
    return storage_for(settings, database, kind)


class CountingReader(io.BytesIO):
    """A source that notes how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1, /) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


class FailingReader(io.BytesIO):
    """A source that breaks after ``good`` bytes, as a dropped upload would."""

    def __init__(self, data: bytes, good: int) -> None:
        super().__init__(data)
        self.good = good

    def read(self, size: int | None = -1, /) -> bytes:
        if self.tell() >= self.good:
            raise OSError("the client went away")
        return super().read(size)


async def read_back(storage: FileStorage, key: str) -> list[bytes]:
    return [chunk async for chunk in storage.open_chunks(key)]


async def rows(database: Database, key: str | None = None) -> tuple[int, int]:
    """(blobs, chunks) stored, for one key or all."""
    async with database.reader() as session:
        blobs = select(func.count()).select_from(FileBlob)
        chunks = select(func.count()).select_from(FileChunk)
        if key is not None:
            blobs = blobs.where(FileBlob.key == key)
            chunks = chunks.where(FileChunk.key == key)
        return int(await session.scalar(blobs) or 0), int(await session.scalar(chunks) or 0)


async def test_a_file_of_many_chunks_goes_in_and_comes_back_a_chunk_at_a_time(
    storage: DatabaseStorage, database: Database
) -> None:
    content = os.urandom(CHUNK * 9 + 123)
    source = CountingReader(content)

    blob = await storage.save(key="k-many", source=source, max_bytes=len(content))

    assert (blob.key, blob.size) == ("k-many", len(content))
    assert blob.sha256 == hashlib.sha256(content).hexdigest()
    # Read from the source a chunk at a time, never the whole file.
    assert set(source.asked) == {CHUNK}
    assert await rows(database, "k-many") == (1, 10)
    chunks = await read_back(storage, "k-many")
    assert [len(c) for c in chunks] == [CHUNK] * 9 + [123]
    assert b"".join(chunks) == content


async def test_a_deleted_file_is_gone_with_all_its_chunks(
    storage: DatabaseStorage, database: Database
) -> None:
    await storage.save(key="k-gone", source=io.BytesIO(b"a" * CHUNK * 3), max_bytes=CHUNK * 3)
    await storage.save(key="k-kept", source=io.BytesIO(b"kept"), max_bytes=100)

    await storage.delete("k-gone")
    await storage.delete("k-never-there")  # harmless, as for a local file

    assert await rows(database) == (1, 1)
    with pytest.raises(FileNotFoundError):
        await read_back(storage, "k-gone")
    assert await read_back(storage, "k-kept") == [b"kept"]


async def test_saving_a_key_again_replaces_the_bytes(storage: DatabaseStorage) -> None:
    await storage.save(key="k-again", source=io.BytesIO(b"x" * CHUNK * 4), max_bytes=CHUNK * 4)
    await storage.save(key="k-again", source=io.BytesIO(b"short"), max_bytes=CHUNK * 4)

    assert await read_back(storage, "k-again") == [b"short"]


async def test_the_size_limit_and_the_digest_are_those_of_the_local_directory(
    any_storage: FileStorage, database: Database, settings: Settings
) -> None:
    limit = CHUNK * 5 + 7
    exact = os.urandom(limit)

    fits = await any_storage.save(key="k-fits", source=io.BytesIO(exact), max_bytes=limit)
    empty = await any_storage.save(key="k-empty", source=io.BytesIO(b""), max_bytes=limit)
    with pytest.raises(TooLarge):
        await any_storage.save(key="k-over", source=io.BytesIO(exact + b"!"), max_bytes=limit)

    assert (fits.size, fits.sha256) == (limit, hashlib.sha256(exact).hexdigest())
    assert (empty.size, empty.sha256) == (0, hashlib.sha256(b"").hexdigest())
    assert b"".join(await read_back(any_storage, "k-fits")) == exact
    assert await read_back(any_storage, "k-empty") == []
    # Nothing is kept of the file that went over.
    with pytest.raises(FileNotFoundError):
        await read_back(any_storage, "k-over")
    assert await rows(database, "k-over") == (0, 0)
    assert {p.name for p in stored_files(settings.files_dir)} <= {"k-fits", "k-empty"}


async def test_a_save_that_fails_midway_keeps_nothing(
    any_storage: FileStorage, database: Database
) -> None:
    source = FailingReader(os.urandom(CHUNK * 6), good=CHUNK * 3)

    with pytest.raises(OSError, match="went away"):
        await any_storage.save(key="k-broken", source=source, max_bytes=CHUNK * 10)

    with pytest.raises(FileNotFoundError):
        await read_back(any_storage, "k-broken")
    assert await rows(database, "k-broken") == (0, 0)


async def test_an_unfinished_blob_cannot_be_read(
    storage: DatabaseStorage, database: Database
) -> None:
    await storage.save(key="k-half", source=io.BytesIO(b"z" * CHUNK * 2), max_bytes=CHUNK * 2)
    async with database.writing() as session:
        await session.execute(
            update(FileBlob).where(FileBlob.key == "k-half").values(complete=False)
        )

    with pytest.raises(FileNotFoundError):
        await read_back(storage, "k-half")


async def test_inside_a_writing_transaction_the_bytes_join_it(
    storage: DatabaseStorage, database: Database
) -> None:
    """A web form stores its files in the request's transaction: on SQLite a transaction
    of the storage's own would wait for that one forever."""
    async with asyncio.timeout(30):
        with pytest.raises(RuntimeError, match="form refused"):
            async with database.writing():
                await storage.save(
                    key="k-rolled-back", source=io.BytesIO(b"r" * CHUNK * 3), max_bytes=CHUNK * 3
                )
                await storage.delete("k-rolled-back")
                await storage.save(
                    key="k-rolled-back", source=io.BytesIO(b"r" * CHUNK * 3), max_bytes=CHUNK * 3
                )
                raise RuntimeError("form refused")
        async with database.writing():
            await storage.save(key="k-committed", source=io.BytesIO(b"c"), max_bytes=10)

    assert await rows(database, "k-rolled-back") == (0, 0)
    assert await read_back(storage, "k-committed") == [b"c"]


async def test_orphans_are_collected_once_a_day_old(
    storage: DatabaseStorage, database: Database, world: World
) -> None:
    """An upload whose file row was never recorded, and a save cut short by a crash, leave
    bytes no file names; the hourly housekeeping deletes them after a day's grace."""
    recorded = await world.upload("alice", "kept.txt", b"recorded")
    for key in (recorded["id"], "unrecorded", "cut-short", "recent-unrecorded"):
        await storage.save(key=key, source=io.BytesIO(b"o" * CHUNK * 2), max_bytes=CHUNK * 2)
    async with database.writing() as session:
        await session.execute(
            update(FileBlob).where(FileBlob.key == "cut-short").values(complete=False)
        )
        await session.execute(
            update(FileBlob)
            .where(FileBlob.key != "recent-unrecorded")
            .values(created_at=utcnow() - ORPHAN_GRACE - timedelta(minutes=1))
        )

    async with database.writing() as session:
        collected = await collect_orphans(session)

    assert collected == 2
    async with database.reader() as session:
        left = set(await session.scalars(select(FileBlob.key)))
    assert left == {recorded["id"], "recent-unrecorded"}
    assert await rows(database, "cut-short") == (0, 0)


async def test_the_hourly_housekeeping_collects_the_orphans(
    storage: DatabaseStorage, database: Database, settings: Settings
) -> None:
    registry = job_registry(settings)
    assert "housekeeping.file_orphans" in registry.recurring
    await storage.save(key="orphan", source=io.BytesIO(b"o" * CHUNK), max_bytes=CHUNK)

    async with database.writing() as session:
        context = JobContext(
            session=session,
            job_id=1,
            kind="housekeeping.file_orphans",
            payload={},
            attempt=1,
            now=utcnow() + ORPHAN_GRACE + timedelta(minutes=1),
        )
        await registry.handlers["housekeeping.file_orphans"](context)

    assert await rows(database) == (0, 0)


# --- the API with HELPWIRE_FILES_STORAGE=database ---------------------------------------------


@dataclass
class Served:
    app: FastAPI
    world: World
    settings: Settings


@pytest.fixture
async def served(settings: Settings) -> AsyncIterator[Served]:
    """The app with its files in the database, and a limit of a few of its chunks."""
    database_settings = settings.model_copy(
        update={"files_storage": "database", "max_file_bytes": 3 * 1024 * 1024}
    )
    app = create_app(database_settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            world = await build_world(c, app.state.database)
            yield Served(app=app, world=world, settings=database_settings)


async def test_uploads_and_downloads_go_to_the_database_not_the_directory(
    served: Served,
) -> None:
    content = os.urandom(2 * 1024 * 1024 + 1000)  # five chunks of the default size
    uploaded = await served.world.upload("alice", "dump.bin", content, "application/octet-stream")

    response = await served.world.get("alice", f"{FILES}/{uploaded['id']}")

    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-length"] == str(len(content))
    assert uploaded["sha256"] == hashlib.sha256(content).hexdigest()
    assert stored_files(served.settings.files_dir) == []
    assert await rows(served.world.database, uploaded["id"]) == (1, 5)


async def test_an_upload_over_the_limit_keeps_nothing_in_the_database(served: Served) -> None:
    before = await served.world.row_counts()
    too_big = b"x" * (served.settings.max_file_bytes + 1)

    response = await served.world.post("alice", FILES, files={"file": ("big.bin", too_big)})

    assert_problem(response, status=413, type_="/problems/payload-too-large")
    assert await served.world.row_counts() == before
    assert await rows(served.world.database) == (0, 0)


async def test_a_web_form_stores_its_files_in_the_requests_transaction(
    served: Served,
) -> None:
    """The portal stores a form's files inside its own transaction: with the bytes in the
    database they join it, and go with it when the form is refused."""
    from tests.web.conftest import WebHarness
    from tests.web.test_portal import api_ticket, file_ticket, number_of

    web = WebHarness(app=served.app, world=served.world)
    try:
        alice = await web.sign_in("alice")
        async with asyncio.timeout(60):
            refused = await file_ticket(
                alice,
                topic="no-such-topic",
                files=[("files", ("refused.txt", b"not kept", "text/plain"))],
            )
            assert refused.status_code == 422
            assert await rows(served.world.database) == (0, 0)
            answer = await file_ticket(
                alice, files=[("files", ("invoice.txt", b"total: 42", "text/plain"))]
            )
        ticket = await api_ticket(web, number_of(answer))
        comments = await served.world.get("agent", f"/api/v1/tickets/{ticket['number']}/comments")
        [attached] = comments.json()["items"][0]["files"]
        download = await served.world.get("agent", f"{FILES}/{attached['id']}")
        assert download.content == b"total: 42"
    finally:
        for client in web.opened:
            await client.aclose()
