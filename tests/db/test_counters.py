"""Ticket numbers: SQLite's counter row, PostgreSQL's sequence (db/counters.py)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from helpwire.accounts.actor import load_actor
from helpwire.accounts.models import User
from helpwire.db.counters import ticket_numbers_taken
from helpwire.db.migrate import downgrade, upgrade
from helpwire.tickets.schemas import TicketCreate
from helpwire.tickets.service import create_ticket
from tests.conftest import World


async def _take(engine: AsyncEngine) -> int:
    """The number the next ticket's INSERT would take (the column's default)."""
    async with engine.begin() as conn:
        default = await conn.scalar(_NUMBER_DEFAULT)
        assert default == "nextval('ticket_number_seq'::regclass)"
        return int(await conn.scalar(text(f"SELECT {default}")))


_NUMBER_DEFAULT = text(
    "SELECT column_default FROM information_schema.columns"
    " WHERE table_name = 'tickets' AND column_name = 'number'"
)


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
        assert await conn.scalar(_NUMBER_DEFAULT) is None
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


async def _file(world: World, session: AsyncSession, who: str, subject: str) -> int:
    user = await session.scalar(select(User).where(User.username == who))
    assert user is not None
    actor = await load_actor(session, user=user)
    new = TicketCreate(subject=subject, body="Numbered while another create is open.")
    return (await create_ticket(session, actor=actor, new=new)).number


async def test_on_postgresql_a_create_waits_for_no_other_to_number_its_ticket(
    world: World, engine_name: str
) -> None:
    """A ticket is filed and numbered while another create, numbered already, has not
    committed: with the counter row, the second waited for the first's COMMIT (the lock
    timeout below turns such a wait into an error)."""
    if engine_name != "postgres":
        pytest.skip("SQLite's one writer holds the write lock for the whole transaction")
    async with world.database.writing() as first:
        number = await _file(world, first, "alice", "First, still open")
        async with world.database.writing() as second:
            await second.execute(text("SET LOCAL lock_timeout = '200ms'"))
            later = await asyncio.wait_for(_file(world, second, "bob", "Second"), 5)
    assert later == number + 1
    assert (await world.row_counts())["ticket_number"] == later


async def test_on_sqlite_a_refused_create_gives_its_number_back(
    world: World, engine_name: str
) -> None:
    if engine_name != "sqlite":
        pytest.skip("PostgreSQL's sequence does not give numbers back")
    with pytest.raises(RuntimeError):
        async with world.database.writing() as session:
            assert await _file(world, session, "alice", "Refused after numbering") == 1
            raise RuntimeError("refused after the number was taken")
    async with world.database.writing() as session:
        assert await _file(world, session, "alice", "Kept") == 1
