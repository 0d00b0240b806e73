"""Fixtures of the database tests: brand-new, empty databases of each kind."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from helpwire.db.engine import create_engine
from helpwire.settings import Settings
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
