"""The worker: claims due jobs with a lease, runs each in a transaction of its own.

A job's handler and the removal of its row commit together, so a job whose work committed
is never run again. A worker that dies mid-job leaves its lease to expire; another worker
(or the same one, restarted) then claims the job again: at least once, and once when
healthy. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so any number of workers share
the queue; on SQLite the claim runs through the single writer.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.base import utcnow
from helpwire.db.listen import run_woken
from helpwire.db.session import Database
from helpwire.jobs.metrics import JobMetrics
from helpwire.jobs.models import WAITING, Job, JobState
from helpwire.jobs.registry import JobContext, JobRegistry, RecurringJob
from helpwire.jobs.service import enqueue_job, queue_stats
from helpwire.jobs.signal import JOBS_SIGNAL, PG_CHANNEL

log = logging.getLogger("helpwire.worker")

Clock = Callable[[], datetime]
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_LONGEST = timedelta(hours=1)
JITTER = 0.2  # each wait is stretched or shrunk by up to 20%, so retries do not stampede
GAUGE_REFRESH_S = 5.0
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def recurring_key(kind: str) -> str:
    return f"recurring:{kind}"


def next_slot(now: datetime, every: timedelta) -> datetime:
    """The start of the period after the one ``now`` is in."""
    periods = (now - EPOCH) // every
    return EPOCH + (periods + 1) * every


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int


class LeaseLost(Exception):
    """Another worker claimed the job after this one's lease ran out."""


class Worker:
    def __init__(
        self,
        database: Database,
        registry: JobRegistry,
        *,
        metrics: JobMetrics | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        lease: timedelta = timedelta(minutes=5),
        poll_interval: float = 5.0,
        batch_size: int = 20,
        concurrency: int = 4,
        name: str | None = None,
    ) -> None:
        self.database = database
        self.registry = registry
        self.metrics = metrics
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self.lease = lease
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.name = name or worker_name()
        self._slots = asyncio.Semaphore(max(1, concurrency))
        self._is_postgres = database.engine.dialect.name == "postgresql"
        self._recurring_scheduled = False
        self._gauges_refreshed = float("-inf")

    # --- recurring jobs -----------------------------------------------------------------

    async def schedule_recurring(self) -> None:
        """Make sure each recurring job has its next run waiting (one row, whoever asks)."""
        if not self.registry.recurring:
            return
        async with self.database.writing() as session:
            for recurring in self.registry.recurring.values():
                await self._schedule_next(session, recurring)

    async def _schedule_next(self, session: AsyncSession, recurring: RecurringJob) -> None:
        await enqueue_job(
            session,
            kind=recurring.kind,
            payload={},
            run_at=next_slot(self.clock(), recurring.every),
            key=recurring_key(recurring.kind),
            replace=False,
        )

    # --- one pass -----------------------------------------------------------------------

    async def run_once(self) -> int:
        """Run everything due now; how many jobs were run (successfully or not)."""
        ran = 0
        while batch := await self._claim():
            await asyncio.gather(*(self._run(job) for job in batch))
            ran += len(batch)
        return ran

    def _due(self, now: datetime) -> Any:
        return and_(
            Job.kind.in_(list(self.registry.handlers)),
            or_(
                and_(Job.state.in_(WAITING), Job.run_at <= now),
                and_(Job.state == JobState.RUNNING.value, Job.locked_until < now),
            ),
        )

    async def _claim(self) -> list[Claimed]:
        if not self.registry.handlers:
            return []
        now = self.clock()
        async with self.database.writing() as session:
            due = select(Job.id).where(self._due(now)).order_by(Job.run_at, Job.id)
            due = due.limit(self.batch_size)
            if self._is_postgres:
                due = due.with_for_update(skip_locked=True)
            ids = list((await session.scalars(due)).all())
            if not ids:
                return []
            await session.execute(
                update(Job)
                .where(Job.id.in_(ids))
                .values(
                    state=JobState.RUNNING.value,
                    locked_by=self.name,
                    locked_until=now + self.lease,
                    attempts=Job.attempts + 1,
                    updated_at=now,
                )
            )
            rows = await session.execute(
                select(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts)
                .where(Job.id.in_(ids))
                .order_by(Job.run_at, Job.id)
            )
            return [Claimed(*row) for row in rows.all()]

    async def _run(self, job: Claimed) -> None:
        async with self._slots:
            try:
                await self._run_handler(job)
            except Exception as exc:
                log.warning(
                    "job failed",
                    extra={"job": job.id, "kind": job.kind, "attempt": job.attempts},
                    exc_info=not isinstance(exc, LeaseLost),
                )
                try:
                    await self._record_failure(job, exc)
                except Exception:
                    # The lease expires and the job is claimed again.
                    log.exception("could not record a job's failure", extra={"job": job.id})

    async def _run_handler(self, job: Claimed) -> None:
        handler = self.registry.handlers[job.kind]
        async with self.database.writing() as session:
            context = JobContext(
                session=session,
                job_id=job.id,
                kind=job.kind,
                payload=job.payload,
                attempt=job.attempts,
                now=self.clock(),
            )
            await handler(context)
            # The job's row goes in the handler's transaction: its work and its end commit
            # together. A worker whose lease ran out finds the row taken and rolls back.
            finished = await session.execute(
                delete(Job).where(Job.id == job.id, Job.locked_by == self.name)
            )
            if not getattr(finished, "rowcount", 0):
                raise LeaseLost(f"job {job.id} was claimed by another worker")
            recurring = self.registry.recurring.get(job.kind)
            if recurring is not None:
                await self._schedule_next(session, recurring)

    def backoff(self, attempt: int) -> timedelta:
        """The wait after failed attempt ``attempt`` (1, 2, ...): doubling, with jitter."""
        base: timedelta = min(BACKOFF_FIRST * 2 ** min(attempt - 1, 30), BACKOFF_LONGEST)
        return base * (1 + self.rng.uniform(-JITTER, JITTER))

    async def _record_failure(self, job: Claimed, exc: Exception) -> None:
        now = self.clock()
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        dead = job.attempts >= job.max_attempts
        values: dict[str, Any] = {
            "state": JobState.DEAD.value if dead else JobState.FAILED.value,
            "locked_by": None,
            "locked_until": None,
            "last_error": error,
            "updated_at": now,
        }
        if not dead:
            values["run_at"] = now + self.backoff(job.attempts)
        async with self.database.writing() as session:
            await session.execute(
                update(Job).where(Job.id == job.id, Job.locked_by == self.name).values(**values)
            )
            recurring = self.registry.recurring.get(job.kind)
            if dead and recurring is not None:
                # A dead run waits for an admin; the next period runs all the same.
                await self._schedule_next(session, recurring)
        if dead:
            log.error("job is dead", extra={"job": job.id, "kind": job.kind, "error": error})

    # --- running for good ---------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Run jobs as they come due until ``stop`` is set."""
        log.info("worker started", extra={"worker": self.name})
        try:
            await run_woken(
                self.database,
                signal_name=JOBS_SIGNAL,
                channel=PG_CHANNEL,
                one_pass=self._one_pass,
                poll_interval=self.poll_interval,
                stop=stop,
                log=log,
                who={"worker": self.name},
            )
        finally:
            log.info("worker stopped", extra={"worker": self.name})

    async def _one_pass(self) -> float:
        """Runs what is due; the seconds until more is. Recurring jobs are scheduled on
        the first pass that reaches the database (it may be away at start)."""
        if not self._recurring_scheduled:
            await self.schedule_recurring()
            self._recurring_scheduled = True
        await self.run_once()
        await self.refresh_gauges()
        return await self._seconds_until_next_due()

    async def _seconds_until_next_due(self) -> float:
        if not self.registry.handlers:
            return self.poll_interval
        now = self.clock()
        async with self.database.reader() as session:
            next_due = await session.scalar(
                select(
                    func.min(
                        func.coalesce(Job.locked_until, Job.run_at),
                    )
                ).where(
                    Job.kind.in_(list(self.registry.handlers)),
                    Job.state.in_([*WAITING, JobState.RUNNING.value]),
                )
            )
        if next_due is None:
            return self.poll_interval
        if isinstance(next_due, str):  # SQLite computes min() over text
            next_due = datetime.fromisoformat(next_due)
        if next_due.tzinfo is None:
            next_due = next_due.replace(tzinfo=UTC)
        return max(0.0, min(self.poll_interval, (next_due - now).total_seconds()))

    async def refresh_gauges(self, *, force: bool = False) -> None:
        """Jobs by state and the age of the oldest due job, at most every few seconds."""
        if self.metrics is None:
            return
        loop_time = asyncio.get_running_loop().time()
        if not force and loop_time - self._gauges_refreshed < GAUGE_REFRESH_S:
            return
        self._gauges_refreshed = loop_time
        async with self.database.reader() as session:
            counts, oldest = await queue_stats(session, now=self.clock())
        for state, count in counts.items():
            self.metrics.jobs_by_state.labels(state=state).set(count)
        self.metrics.jobs_oldest_due_age.set(oldest.total_seconds())
