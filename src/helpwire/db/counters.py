"""Gap-free counters (ticket numbers).

A row per counter, bumped with UPDATE ... RETURNING inside the writing transaction: the
row lock serialises concurrent writers and a rolled-back transaction gives its number
back, so numbers stay consecutive on every engine.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base

TICKET_NUMBER = "ticket_number"


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
