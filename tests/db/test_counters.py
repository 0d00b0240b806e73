"""Ticket numbers: SQLite's counter row, PostgreSQL's sequence (db/counters.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from helpwire.db.counters import next_ticket_number, ticket_numbers_taken
from helpwire.db.migrate import downgrade, upgrade
from helpwire.db.session import Database


async def _take(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session, session.begin():
        return await next_ticket_number(session)


async def _taken(engine: AsyncEngine) -> int:
    async with AsyncSession(engine) as session:
        return await ticket_numbers_taken(session)


async def test_postgresql_numbers_go_on_from_the_counter_through_the_migration_and_back(
    empty_engine: AsyncEngine, engine_name: str
) -> None:
    if engine_name != "postgres":
        pytest.skip("SQLite keeps its counter row; the migration does nothing there")
    await upgrade(empty_engine, "0011")
    async with empty_engine.begin() as conn:
        await conn.execute(text("UPDATE counters SET value = 41 WHERE name = 'ticket_number'"))

    await upgrade(empty_engine)
    assert await _taken(empty_engine) == 41
    assert [await _take(empty_engine), await _take(empty_engine)] == [42, 43]

    await downgrade(empty_engine, "0011")
    async with empty_engine.connect() as conn:
        counter = await conn.scalar(text("SELECT value FROM counters"))
    assert counter == 43
    await upgrade(empty_engine)
    assert await _take(empty_engine) == 44


async def test_a_new_postgresql_database_numbers_its_first_ticket_one(
    empty_engine: AsyncEngine, engine_name: str
) -> None:
    if engine_name != "postgres":
        pytest.skip("a PostgreSQL sequence")
    await upgrade(empty_engine)
    assert await _taken(empty_engine) == 0
    assert await _take(empty_engine) == 1
    assert await _taken(empty_engine) == 1


async def test_on_postgresql_a_create_taking_its_number_waits_for_no_other(
    database: Database, engine_name: str
) -> None:
    """The number of one create is taken while another create holds its own, uncommitted:
    with the counter row, the second waited for the first's COMMIT (the lock timeout
    below turns such a wait into an error)."""
    if engine_name != "postgres":
        pytest.skip("SQLite's one writer holds the write lock for the whole transaction")
    async with database.writing() as first:
        taken = await next_ticket_number(first)
        async with database.writing() as second:
            await second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            assert await asyncio.wait_for(next_ticket_number(second), 5) == taken + 1


async def test_on_sqlite_a_rolled_back_create_gives_its_number_back(
    database: Database, engine_name: str
) -> None:
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL's sequence does not give numbers back")
    with pytest.raises(RuntimeError):
        async with database.writing() as session:
            assert await next_ticket_number(session) == 1
            raise RuntimeError("refused after taking the number")
    async with database.writing() as session:
        assert await next_ticket_number(session) == 1
