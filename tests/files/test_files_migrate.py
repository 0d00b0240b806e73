"""`helpwire files migrate`, run as an operator runs it, on both engines: every stored file
copied to the other backend, checked, skipped when already there, refused when wrong."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, update

from helpwire.db.session import Database
from helpwire.files.dbstorage import DB_CHUNK
from helpwire.files.models import FileBlob
from helpwire.settings import MIB, Settings
from tests.conftest import World
from tests.test_cli import api_get, run


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Room for a file of several database chunks."""
    return settings.model_copy(update={"max_file_bytes": 2 * MIB})


def env_for(settings: Settings, files_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=settings.database_url,
        HELPWIRE_FILES_DIR=str(files_dir),
        HELPWIRE_LOG_JSON="true",
    )
    return env


def local_path(root: Path, key: str) -> Path:
    return root / key[:2] / key[2:4] / key


def migrate(to: str, settings: Settings, files_dir: Path) -> tuple[int, str, str]:
    done = run(["files", "migrate", "--to", to], env_for(settings, files_dir))
    return done.returncode, done.stdout, done.stderr


async def upload_some(world: World) -> dict[str, bytes]:
    """Files of several chunks, of one, and of none: file id -> bytes."""
    contents = [os.urandom(DB_CHUNK * 3 + 5), b"hello", b""]
    uploaded = {}
    for number, content in enumerate(contents):
        row = await world.upload("alice", f"f{number}.bin", content, "application/octet-stream")
        uploaded[row["id"]] = content
    return uploaded


async def complete_blobs(database: Database) -> dict[str, str | None]:
    async with database.reader() as session:
        found = await session.execute(
            select(FileBlob.key, FileBlob.sha256).where(FileBlob.complete.is_(True))
        )
        return {key: sha256 for key, sha256 in found.all()}


async def test_to_the_database_and_back_and_a_second_run_copies_nothing(
    world: World, settings: Settings, tmp_path: Path
) -> None:
    uploaded = await upload_some(world)

    code, out, err = migrate("database", settings, settings.files_dir)

    assert code == 0, err
    assert "3 files: 3 copied, 0 already there, 0 failed" in out
    assert "3/3 files" in err  # the progress line
    code, out, err = migrate("database", settings, settings.files_dir)
    assert code == 0, err
    assert "3 files: 0 copied, 3 already there, 0 failed" in out
    assert await complete_blobs(world.database) == {
        key: hashlib.sha256(content).hexdigest() for key, content in uploaded.items()
    }
    # Served from the database alone once the setting says so.
    shutil.rmtree(settings.files_dir)
    from_database = settings.model_copy(update={"files_storage": "database"})
    for key, content in uploaded.items():
        response = await api_get(from_database, f"/api/v1/files/{key}", world.tokens["alice"])
        assert response.status_code == 200, response.text
        assert response.content == content

    back = tmp_path / "files-back"
    code, out, err = migrate("local", settings, back)

    assert code == 0, err
    assert "3 files: 3 copied, 0 already there, 0 failed" in out
    for key, content in uploaded.items():
        assert local_path(back, key).read_bytes() == content
    code, out, err = migrate("local", settings, back)
    assert code == 0, err
    assert "3 files: 0 copied, 3 already there, 0 failed" in out


async def test_a_copy_cut_short_is_made_again(world: World, settings: Settings) -> None:
    uploaded = await upload_some(world)
    assert migrate("database", settings, settings.files_dir)[0] == 0
    cut_short = next(iter(uploaded))
    async with world.database.writing() as session:
        await session.execute(
            update(FileBlob).where(FileBlob.key == cut_short).values(complete=False)
        )

    code, out, err = migrate("database", settings, settings.files_dir)

    assert code == 0, err
    assert "3 files: 1 copied, 2 already there, 0 failed" in out
    assert set(await complete_blobs(world.database)) == set(uploaded)


async def test_bytes_that_are_missing_or_not_as_recorded_are_not_copied(
    world: World, settings: Settings
) -> None:
    uploaded = await upload_some(world)
    missing, changed, intact = list(uploaded)
    local_path(settings.files_dir, missing).unlink()
    local_path(settings.files_dir, changed).write_bytes(b"HELLO")  # same size, other bytes

    code, out, err = migrate("database", settings, settings.files_dir)

    assert code == 1
    assert "3 files: 1 copied, 0 already there, 2 failed" in out
    said = " ".join(err.split())
    assert f"file {missing}: not in the source storage" in said
    assert f"file {changed}: the source holds 5 bytes with SHA-256" in said
    assert set(await complete_blobs(world.database)) == {intact}
