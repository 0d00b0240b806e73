"""Session factories: one for requests that only read, one for requests that write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from helpwire.db.engine import WRITE_INTENT


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time anyway. Queueing this process's writers on an
    # asyncio lock hands the write lock over at once, where SQLite's own busy handler
    # would sleep and poll (up to 100 ms a try) under contention. Other processes still
    # wait through the busy timeout. None on PostgreSQL, whose writers run in parallel.
    write_lock: asyncio.Lock | None = None

    @classmethod
    def for_engine(cls, engine: AsyncEngine) -> Database:
        # Objects stay readable after commit: answers are built from them afterwards.
        writer_bind = engine.execution_options(**{WRITE_INTENT: True})
        return cls(
            engine=engine,
            reader=async_sessionmaker(engine, expire_on_commit=False),
            writer=async_sessionmaker(writer_bind, expire_on_commit=False),
            write_lock=asyncio.Lock() if engine.dialect.name == "sqlite" else None,
        )

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A writing transaction: committed when the block ends, rolled back if it raises."""
        async with AsyncExitStack() as stack:
            if self.write_lock is not None:
                await stack.enter_async_context(self.write_lock)
            session = await stack.enter_async_context(self.writer())
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
