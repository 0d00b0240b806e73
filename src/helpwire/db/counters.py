"""Counters: ticket numbers.

SQLite: a row per counter, bumped with UPDATE ... RETURNING inside the writing
transaction. A rolled-back transaction gives its number back, so numbers stay consecutive,
and the row's lock costs nothing: SQLite's one writer holds the database's write lock for
the whole transaction anyway.

PostgreSQL: a sequence (migration 0012). The counter row's lock lasted until COMMIT and
queued every concurrent create behind it, in every process (about 200 creates a second
for the whole installation, measured); a sequence's number is taken without a lasting
lock. A create that fails after taking its number leaves that number unused; refusals
do not, since every check of a new ticket runs before its number is taken.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import BigInteger, String, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base

TICKET_NUMBER = "ticket_number"
TICKET_NUMBER_SEQUENCE = "ticket_number_seq"  # PostgreSQL (migration 0012)
_TICKET_NUMBERS_TAKEN_PG = text(
    f"SELECT last_value, is_called FROM {TICKET_NUMBER_SEQUENCE}"  # noqa: S608 (a constant)
)
_COUNTER_VALUE = text("SELECT value FROM counters WHERE name = :name")


class Counter(Base):
    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


async def next_value(session: AsyncSession, name: str) -> int:
    result = await session.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )
    value = result.scalar_one_or_none()
    if value is None:
        session.add(Counter(name=name, value=1))
        await session.flush()
        return 1
    return int(value)


class Numbered(Protocol):
    """A ticket being created (db must not import tickets)."""

    number: int


async def number_ticket(session: AsyncSession, ticket: Numbered) -> None:
    """Number a ticket about to be inserted: on SQLite from the counter, now; on PostgreSQL
    the INSERT itself takes the sequence's next value (the column's default), so the
    number costs no statement of its own (see the module's docstring)."""
    if session.bind.dialect.name == "postgresql":
        return
    ticket.number = await next_value(session, TICKET_NUMBER)


async def ticket_numbers_taken(session: AsyncSession) -> int:
    """The highest ticket number handed out so far (0 for none)."""
    if session.bind.dialect.name == "postgresql":
        row = (await session.execute(_TICKET_NUMBERS_TAKEN_PG)).one()
        return int(row.last_value) if row.is_called else 0
    value = await session.scalar(_COUNTER_VALUE, {"name": TICKET_NUMBER})
    return int(value or 0)
