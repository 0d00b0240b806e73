"""Session factories: one for requests that only read, one for requests that write."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpwire.db.engine import WRITE_INTENT


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> Database:
        # Objects stay readable after commit: answers are built from them afterwards.
        writer_bind = engine.execution_options(**{WRITE_INTENT: True})
        return cls(
            engine=engine,
            reader=async_sessionmaker(engine, expire_on_commit=False),
            writer=async_sessionmaker(writer_bind, expire_on_commit=False),
        )
