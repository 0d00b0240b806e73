"""One migration history for both engines, in step with the models."""

from __future__ import annotations

import asyncio
import importlib.util
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpwire.db.engine import create_engine
from helpwire.db.migrate import MIGRATIONS_DIR, revision_status, schema_differences, upgrade
from helpwire.settings import Settings
from helpwire.tickets.models import PRIORITY_RANK_SQL, STATUS_RANK_SQL
from tests.conftest import POSTGRES_URL


@pytest.fixture
def empty_database_url(
    engine_name: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A brand-new, empty database of each kind."""
    if engine_name == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgres_database")  # skips or fails when PostgreSQL is absent
    admin_url = Settings(database_url=POSTGRES_URL).async_database_url
    name = f"helpwire_empty_{uuid.uuid4().hex[:8]}"

    async def admin_sql(statement: str) -> None:
        admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(statement))
        await admin.dispose()

    asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
    yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=empty_database_url))
    yield engine
    await engine.dispose()


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_from_empty_reaches_the_newest_revision(empty_engine: AsyncEngine) -> None:
    assert await revision_status(empty_engine) == (None, (await revision_status(empty_engine))[1])
    await upgrade(empty_engine)
    current, newest = await revision_status(empty_engine)
    assert current == newest is not None
    assert {"tickets", "comments", "events", "files", "users", "search_documents"} <= await _tables(
        empty_engine
    )


async def test_models_and_migrations_agree(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    assert await schema_differences(empty_engine) == []


async def test_upgrade_twice_is_harmless(empty_engine: AsyncEngine) -> None:
    await upgrade(empty_engine)
    await upgrade(empty_engine)
    assert (await revision_status(empty_engine))[0] is not None


async def test_downgrade_to_empty_and_back(empty_engine: AsyncEngine) -> None:
    from helpwire.db.migrate import downgrade

    await upgrade(empty_engine)
    await downgrade(empty_engine, "base")
    assert await _tables(empty_engine) <= {"alembic_version"}
    await upgrade(empty_engine)
    assert await schema_differences(empty_engine) == []


def test_the_rank_columns_of_the_migration_compute_what_the_models_say() -> None:
    # Alembic cannot compare generated-column expressions reliably (PostgreSQL rewrites
    # them), so the initial migration's copy of the SQL is held to the models' here.
    path = MIGRATIONS_DIR / "versions" / "0001_initial_schema.py"
    spec = importlib.util.spec_from_file_location("initial_schema", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PRIORITY_RANK_SQL == PRIORITY_RANK_SQL
    assert migration.STATUS_RANK_SQL == STATUS_RANK_SQL
