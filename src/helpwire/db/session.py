"""Session factories: one for requests that only read, one for requests that write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from helpwire.db.engine import WRITE_INTENT
from helpwire.db.subscribers import SUBSCRIBERS_KEY, Subscribers

# The writing transaction the running task is inside: (its Database, the task, the session).
_WRITING: ContextVar[tuple[object, asyncio.Task[Any] | None, AsyncSession] | None] = ContextVar(
    "helpwire_writing", default=None
)


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
            outer = _WRITING.get()
            _WRITING.set((self, asyncio.current_task(), session))
            try:
                yield session
            except BaseException:
                await session.rollback()
                raise
            finally:
                # Set back rather than reset by token: the block may end in a copy of the
                # context it began in (a dependency's cleanup), where a token is refused.
                _WRITING.set(outer)
            await session.commit()

    @asynccontextmanager
    async def writing_or_joined(self) -> AsyncIterator[AsyncSession]:
        """The writing transaction this task is already inside, when there is one (its
        owner commits or rolls it back), else a new one as :meth:`writing`. For work that
        runs both inside a request's transaction and outside any (storing a file's bytes in
        the database): on SQLite a second transaction would wait forever for the first,
        held by the same task."""
        current = _WRITING.get()
        # A task started inside the block inherits the variable but not the right to use
        # the session: only the task that opened it joins.
        if current is not None and current[0] is self and current[1] is asyncio.current_task():
            yield current[2]
            return
        async with self.writing() as session:
            yield session
