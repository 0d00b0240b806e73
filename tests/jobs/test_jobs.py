"""Enqueue, move, cancel, run, retry, die: the job seam on both engines."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from helpwire.app import create_app
from helpwire.db.session import Database
from helpwire.jobs.models import Job, JobState
from helpwire.jobs.registry import JobContext, JobRegistry
from helpwire.jobs.service import cancel_job, enqueue_job
from helpwire.jobs.worker import BACKOFF_FIRST, JITTER, Worker, next_slot
from helpwire.settings import Settings
from tests.relays import FakeClock


class Boom(Exception):
    pass


def recording(runs: list[dict[str, object]]) -> JobRegistry:
    async def handler(context: JobContext) -> None:
        runs.append(dict(context.payload))

    registry = JobRegistry()
    registry.register("test.record", handler)
    return registry


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_runs(
    database: Database, make_worker: Callable[..., Worker]
) -> None:
    runs: list[dict[str, object]] = []
    with pytest.raises(Boom):
        async with database.writing() as session:
            await enqueue_job(session, kind="test.record", payload={"n": 1})
            raise Boom
    async with database.writing() as session:
        await enqueue_job(session, kind="test.record", payload={"n": 2})
    assert await make_worker(recording(runs)).run_once() == 1
    assert runs == [{"n": 2}]
    async with database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 0


async def test_a_timer_moved_before_its_time_runs_only_at_the_new_time(
    database: Database, make_worker: Callable[..., Worker], clock: FakeClock
) -> None:
    runs: list[dict[str, object]] = []
    worker = make_worker(recording(runs))
    async with database.writing() as session:
        await enqueue_job(
            session,
            kind="test.record",
            payload={"v": "first"},
            run_at=clock.now + timedelta(hours=1),
            key="ticket-7-sla",
        )
    async with database.writing() as session:  # the ticket went on hold: the deadline moves
        await enqueue_job(
            session,
            kind="test.record",
            payload={"v": "moved"},
            run_at=clock.now + timedelta(hours=3),
            key="ticket-7-sla",
        )
    clock.advance(timedelta(hours=1, seconds=1))
    assert await worker.run_once() == 0
    clock.advance(timedelta(hours=2))
    assert await worker.run_once() == 1
    assert runs == [{"v": "moved"}]
    assert await worker.run_once() == 0


async def test_a_cancelled_timer_never_runs(
    database: Database, make_worker: Callable[..., Worker], clock: FakeClock
) -> None:
    runs: list[dict[str, object]] = []
    async with database.writing() as session:
        await enqueue_job(session, kind="test.record", payload={}, key="k")
    async with database.writing() as session:
        assert await cancel_job(session, key="k") is True
        assert await cancel_job(session, key="k") is False
    assert await make_worker(recording(runs)).run_once() == 0
    assert runs == []


async def test_failures_back_off_and_end_dead(
    database: Database, make_worker: Callable[..., Worker], clock: FakeClock
) -> None:
    async def fails(context: JobContext) -> None:
        raise Boom(f"attempt {context.attempt}")

    registry = JobRegistry()
    registry.register("test.fails", fails)
    worker = make_worker(registry)
    async with database.writing() as session:
        await enqueue_job(session, kind="test.fails", payload={}, max_attempts=3)
    waits = []
    for attempt in (1, 2):
        started = clock.now
        assert await worker.run_once() == 1
        async with database.reader() as session:
            job = (await session.scalars(select(Job))).one()
        assert (job.state, job.attempts, job.last_error) == (
            "failed",
            attempt,
            f"Boom: attempt {attempt}",
        )
        waits.append(job.run_at - started)
        assert await worker.run_once() == 0  # not before its time
        clock.advance(job.run_at - clock.now)
    first = BACKOFF_FIRST
    assert first * (1 - JITTER) <= waits[0] <= first * (1 + JITTER)
    assert 2 * first * (1 - JITTER) <= waits[1] <= 2 * first * (1 + JITTER)
    assert await worker.run_once() == 1
    async with database.reader() as session:
        job = (await session.scalars(select(Job))).one()
    assert (job.state, job.attempts, job.locked_by) == ("dead", 3, None)
    clock.advance(timedelta(days=30))
    assert await worker.run_once() == 0  # dead stays dead until an admin retries it


async def test_work_of_a_failed_attempt_is_rolled_back(
    database: Database, make_worker: Callable[..., Worker]
) -> None:
    async def enqueues_then_fails(context: JobContext) -> None:
        await enqueue_job(context.session, kind="test.record", payload={"side": "effect"})
        raise Boom

    runs: list[dict[str, object]] = []
    registry = recording(runs)
    registry.register("test.half", enqueues_then_fails)
    async with database.writing() as session:
        await enqueue_job(session, kind="test.half", payload={}, max_attempts=1)
    await make_worker(registry).run_once()
    async with database.reader() as session:
        assert list(await session.scalars(select(Job.state))) == [JobState.DEAD.value]
    assert runs == []


async def test_kinds_a_worker_has_no_handler_for_wait_for_one_that_has(
    database: Database, make_worker: Callable[..., Worker]
) -> None:
    async with database.writing() as session:
        await enqueue_job(session, kind="test.elsewhere", payload={})
    runs: list[dict[str, object]] = []
    assert await make_worker(recording(runs)).run_once() == 0
    async with database.reader() as session:
        assert list(await session.scalars(select(Job.state))) == [JobState.PENDING.value]


async def test_a_recurring_job_runs_once_per_period_across_workers(
    database: Database, make_worker: Callable[..., Worker], clock: FakeClock
) -> None:
    runs: list[object] = []

    async def tick(context: JobContext) -> None:
        runs.append(context.now)

    def registry() -> JobRegistry:
        r = JobRegistry()
        r.every("test.tick", timedelta(hours=1), tick)
        return r

    workers = [make_worker(registry(), name=f"w{i}") for i in range(3)]
    for worker in workers:
        await worker.schedule_recurring()
    async with database.reader() as session:
        job = (await session.scalars(select(Job))).one()
    assert job.run_at == next_slot(clock.now, timedelta(hours=1))
    for _period in range(3):
        clock.advance(timedelta(hours=1))
        await asyncio.gather(*(w.run_once() for w in workers))
        for worker in workers:  # a worker starting mid-period changes nothing
            await worker.schedule_recurring()
    assert len(runs) == 3
    async with database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Job)) == 1


async def test_two_workers_on_separate_engines_run_each_job_exactly_once(
    database: Database, settings: Settings, clock: FakeClock
) -> None:
    runs: Counter[int] = Counter()

    async def count(context: JobContext) -> None:
        runs[context.payload["n"]] += 1
        await asyncio.sleep(0)  # let the other worker claim meanwhile

    registry = JobRegistry()
    registry.register("test.count", count)
    async with database.writing() as session:
        for n in range(300):
            await enqueue_job(session, kind="test.count", payload={"n": n})
    # Each app opens an engine of its own, as two processes would.
    async with contextlib.AsyncExitStack() as stack:
        databases = []
        for _ in range(2):
            app = create_app(settings)
            await stack.enter_async_context(LifespanManager(app))
            databases.append(app.state.database)
        workers = [
            Worker(db, registry, clock=clock, batch_size=10, name=f"w{i}")
            for i, db in enumerate(databases)
        ]
        assert databases[0].engine is not databases[1].engine
        done = await asyncio.gather(*(w.run_once() for w in workers))
    assert sum(done) == 300
    assert runs == Counter(range(300))
