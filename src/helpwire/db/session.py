"""Session factories: one for requests that only read, one for requests that write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from helpwire.db.engine import WRITE_INTENT
from helpwire.db.subscribers import SUBSCRIBERS_KEY, Subscribers


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    reader: async_sessionmaker[AsyncSession]
    writer: async_sessionmaker[AsyncSession]
    # Who hears of recorded events; every session of this Database carries it (db/subscribers).
    subscribers: Subscribers
    # SQLite has one writer at a time anyway. Queueing this process's writers on an
    # asyncio lock hands the write lock over at once, where SQLite's own busy handler
    # would sleep and poll (up to 100 ms a try) under contention. Other processes still
    # wait through the busy timeout. None on PostgreSQL, whose writers run in parallel.
    write_lock: asyncio.Lock | None = None

    @classmethod
    def for_engine(cls, engine: AsyncEngine, *, subscribers: Subscribers) -> Database:
        """Assembled by helpwire.assembly.database_for, which registers the subscribers."""
        # A session class of this Database's own: its commit listeners wake this Database's
        # waiters only, and nothing is installed on SQLAlchemy's Session for the process.
        session_class = type("HelpwireSession", (Session,), {})
        subscribers.install(session_class)
        writer_bind = engine.execution_options(**{WRITE_INTENT: True})

        def factory(bind: AsyncEngine) -> async_sessionmaker[AsyncSession]:
            # Objects stay readable after commit: answers are built from them afterwards.
            return async_sessionmaker(
                bind,
                expire_on_commit=False,
                sync_session_class=session_class,
                info={SUBSCRIBERS_KEY: subscribers},
            )

        return cls(
            engine=engine,
            reader=factory(engine),
            writer=factory(writer_bind),
            subscribers=subscribers,
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
