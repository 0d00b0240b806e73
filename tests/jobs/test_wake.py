"""A waiting worker starts a job as soon as its transaction commits: woken in-process by
its Database's signal, and from other processes by NOTIFY on PostgreSQL (its poll
interval here is five minutes, so only a wake-up runs the job in time)."""

from __future__ import annotations

import asyncio
import contextlib

from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.db.session import Database
from helpwire.jobs.registry import JobContext, JobRegistry
from helpwire.jobs.service import enqueue_job
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
