"""Erasure and retention with the file bytes kept in the database: the bytes go in the
job's own transaction, once the transaction that let go of the files has committed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from helpwire.db.session import Database
from helpwire.files.models import FileBlob
from helpwire.housekeeping import job_registry
from helpwire.jobs.worker import Worker
from helpwire.settings import Settings
from tests.conftest import World


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"files_storage": "database"})


async def blobs(database: Database) -> int:
    async with database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(FileBlob)) or 0)


async def test_the_bytes_of_an_erased_persons_files_leave_the_database(
    world: World, database: Database, settings: Settings
) -> None:
    upload = await world.upload("alice", "scan.pdf", b"%PDF alice", "application/pdf")
    await world.create_ticket("alice", files=[upload["id"]])
    await world.upload("bob", "bob.txt", b"bob's")
    assert await blobs(database) == 2

    erased = await world.post("admin", "/api/v1/users/alice/erase")
    assert erased.status_code == 200, erased.text
    assert await blobs(database) == 2  # the bytes wait for the worker
    await Worker(database, job_registry(settings)).run_once()
    assert await blobs(database) == 1  # bob's stay
