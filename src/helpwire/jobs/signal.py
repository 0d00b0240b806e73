"""Waking workers the moment a job's transaction commits.

In one process: an asyncio.Event per running worker, set from SQLAlchemy's after_commit
hook. Across processes (PostgreSQL): the enqueuing transaction sends NOTIFY helpwire_jobs,
delivered at commit (never on rollback), and workers LISTEN for it. Workers also poll, so
a lost wake-up only delays a job.
"""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

PG_CHANNEL = "helpwire_jobs"
_ENQUEUED_KEY = "helpwire_jobs_enqueued"


class JobSignal:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        with self._lock:
            self._waiters.append((asyncio.get_running_loop(), event))
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with self._lock:
            self._waiters = [(loop, e) for loop, e in self._waiters if e is not event]

    def wake_all(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)


job_signal = JobSignal()


async def announce(session: AsyncSession) -> None:
    """Make sure workers hear of this transaction's jobs once it commits."""
    if session.info.get(_ENQUEUED_KEY):
        return
    session.info[_ENQUEUED_KEY] = True
    if session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": PG_CHANNEL})


@sa_event.listens_for(Session, "after_commit")
def _wake_workers_after_commit(session: Session) -> None:
    if session.info.pop(_ENQUEUED_KEY, False):
        job_signal.wake_all()


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction: object) -> None:
    session.info.pop(_ENQUEUED_KEY, None)
