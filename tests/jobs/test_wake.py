"""A waiting worker starts a job as soon as its transaction commits: woken in-process by
its Database's signal, and from other processes by NOTIFY on PostgreSQL (its poll
interval here is five minutes, so only a wake-up runs the job in time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from helpwire.app import create_app
from helpwire.db.listen import keep_listening
from helpwire.db.session import Database
from helpwire.jobs.registry import JobContext, JobRegistry
from helpwire.jobs.service import enqueue_job
from helpwire.jobs.signal import PG_CHANNEL
from helpwire.jobs.worker import Worker
from helpwire.settings import Settings


async def test_a_commit_wakes_a_waiting_worker(
    database: Database, settings: Settings, engine_name: str
) -> None:
    ran: asyncio.Queue[str] = asyncio.Queue()

    async def note(context: JobContext) -> None:
        ran.put_nowait(context.payload["from"])

    registry = JobRegistry()
    registry.register("test.note", note)
    stop = asyncio.Event()
    worker = Worker(database, registry, poll_interval=300)
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        async with database.writing() as session:
            await enqueue_job(session, kind="test.note", payload={"from": "this process"})
        assert await asyncio.wait_for(ran.get(), 30) == "this process"
        if engine_name == "postgres":
            async with contextlib.AsyncExitStack() as stack:
                other = create_app(settings)  # an engine and signals of its own
                await stack.enter_async_context(LifespanManager(other))
                async with other.state.database.writing() as session:
                    await enqueue_job(session, kind="test.note", payload={"from": "elsewhere"})
                assert await asyncio.wait_for(ran.get(), 30) == "elsewhere"
    finally:
        stop.set()
        await task


class CountingEvent(asyncio.Event):
    def __init__(self) -> None:
        super().__init__()
        self.times_set = 0

    def set(self) -> None:
        self.times_set += 1
        super().set()


async def test_a_loop_passes_over_the_notify_of_its_own_databases_commits(
    database: Database, engine_name: str
) -> None:
    """Its own commits have woken it through the Database's signal already: the NOTIFY that
    PostgreSQL delivers a moment later would only make a second, empty pass."""
    if engine_name != "postgres":
        pytest.skip("NOTIFY is PostgreSQL's")
    wake, stop = CountingEvent(), asyncio.Event()
    listening = asyncio.create_task(
        keep_listening(
            database,
            channel=PG_CHANNEL,
            wake=wake,
            stop=stop,
            log=logging.getLogger("test"),
            who={},
        )
    )
    try:
        await asyncio.wait_for(_until_listening(database), 30)
        for sender in (database.subscribers.sender, "another process"):
            async with database.writing() as session:
                await session.execute(
                    text("SELECT pg_notify(:channel, :sender)"),
                    {"channel": PG_CHANNEL, "sender": sender},
                )
        # Delivered in the order sent: when the other's has set it, its own has come and gone.
        await asyncio.wait_for(wake.wait(), 30)
        assert wake.times_set == 1
    finally:
        stop.set()
        await listening


async def _until_listening(database: Database) -> None:
    """Until a connection to this database has run LISTEN (its last statement). Each check
    is a transaction of its own: within one, pg_stat_activity is a snapshot that never
    changes. Each is a round trip, in which the listener's task gets on."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' "
        "AND datname = current_database()"
    )
    while True:
        async with database.reader() as session:
            if await session.scalar(query):
                return
