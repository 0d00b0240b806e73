"""PostgreSQL connections the server dropped are replaced by the pool without a restart:
an idle one is pinged before use, and one that fails in use takes the pool's older
connections with it, so that only the request under way sees the failure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from helpwire.db import engine as engine_module
from helpwire.db.engine import create_engine
from helpwire.db.errors import is_database_unavailable
from helpwire.settings import Settings
from tests.conftest import POSTGRES_URL, _postgres_reachable


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    reason = await _postgres_reachable()
    if reason is not None:
        pytest.skip(reason)
    engine = create_engine(Settings(database_url=POSTGRES_URL, database_pool_size=2))
    yield engine
    await engine.dispose()


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(pid: int) -> None:
    # From a connection of its own: the pooled one is the one being killed.
    other = create_engine(Settings(database_url=POSTGRES_URL))
    try:
        async with other.connect() as conn:
            await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await other.dispose()


async def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = await _backend_pid(engine)
    await _terminate(dropped)
    # Every pooled connection counts as idle long enough to be pinged.
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    assert await _backend_pid(engine) != dropped


async def test_a_connection_that_fails_in_use_is_replaced_for_the_next_request(
    engine: AsyncEngine,
) -> None:
    dropped = await _backend_pid(engine)
    await _terminate(dropped)
    with pytest.raises(Exception) as failed:
        await _backend_pid(engine)  # used within the idle time: not pinged
    assert is_database_unavailable(failed.value)
    assert await _backend_pid(engine) != dropped


async def test_a_missing_unix_socket_is_the_database_being_away(tmp_path: Path) -> None:
    # PostgreSQL removes its socket file while it is stopped: connecting then fails with
    # FileNotFoundError, which must read as an outage (503), not as a bug (500).
    url = f"postgresql+asyncpg://postgres@/test?host={tmp_path}"
    engine = create_engine(Settings(database_url=url, database_pool_size=1))
    try:
        with pytest.raises(Exception) as failed:
            await _backend_pid(engine)
    finally:
        await engine.dispose()
    assert is_database_unavailable(failed.value)


def test_a_missing_file_elsewhere_is_not_the_database_being_away(tmp_path: Path) -> None:
    try:
        (tmp_path / "gone").read_bytes()
    except FileNotFoundError as missing:
        assert not is_database_unavailable(missing)
