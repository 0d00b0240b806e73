"""Fixtures of the database tests: an engine on a brand-new, empty database of each kind
(``empty_database_url``, tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from helpwire.db.engine import create_engine
from helpwire.settings import Settings


@pytest.fixture
async def empty_engine(empty_database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(Settings(database_url=empty_database_url))
    yield engine
    await engine.dispose()
