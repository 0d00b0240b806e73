"""Jobs drain: 10,000 jobs enqueued at a steady rate while workers run them.

A producer enqueues jobs (in transactions of ``--batch``) at ``--rate`` jobs a second
while ``--workers`` workers, each on an engine of its own as separate processes would be,
run them through the real claim path (lease, handler transaction, row removal). The
backlog (jobs waiting) is sampled every half second. The queue keeps up when the backlog
stays bounded: the last quarter's largest backlog is no larger than the first quarter's
plus a slack (one claim per worker and one batch, or two seconds of production if more).
Printed per engine: the drain rate reached, the largest backlog and the verdict.
``--rate 0`` enqueues everything first and measures the pure drain rate.

Run ``.venv/bin/python bench/jobs_drain.py --help``; see bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from helpwire.app import create_app
from helpwire.db.engine import create_engine
from helpwire.db.migrate import upgrade
from helpwire.db.session import Database
from helpwire.jobs.models import WAITING, Job
from helpwire.jobs.registry import JobContext, JobRegistry
from helpwire.jobs.service import enqueue_job
from helpwire.jobs.worker import Worker
from helpwire.settings import Settings

POSTGRES_URL = os.environ.get(
    "HELPWIRE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
SAMPLE_S = 0.5


@dataclass
class Result:
    engine: str
    jobs: int
    seconds: float
    backlog: list[int]

    @property
    def rate(self) -> float:
        return self.jobs / self.seconds

    @property
    def _quarter(self) -> int:
        return max(1, len(self.backlog) // 4)

    @property
    def first_quarter_max(self) -> int:
        return max(self.backlog[: self._quarter])

    @property
    def last_quarter_max(self) -> int:
        return max(self.backlog[-self._quarter :])

    def bounded(self, slack: int) -> bool:
        return self.last_quarter_max <= self.first_quarter_max + slack


async def backlog(database: Database) -> int:
    async with database.reader() as session:
        count = await session.scalar(
            select(func.count()).select_from(Job).where(Job.state.in_(WAITING))
        )
    return int(count or 0)


async def produce(database: Database, *, jobs: int, rate: float, batch: int) -> None:
    started = time.monotonic()
    for first in range(0, jobs, batch):
        async with database.writing() as session:
            for n in range(first, min(first + batch, jobs)):
                await enqueue_job(session, kind="bench.noop", payload={"n": n})
        if rate > 0:  # keep to the rate: wait until this batch's slot is due
            due = started + (first + batch) / rate
            await asyncio.sleep(max(0.0, due - time.monotonic()))


async def drain(databases: list[Database], args: argparse.Namespace, engine: str) -> Result:
    done = asyncio.Event()
    ran = 0

    async def noop(context: JobContext) -> None:
        nonlocal ran
        ran += 1
        if ran >= args.jobs:
            done.set()

    registry = JobRegistry()
    registry.register("bench.noop", noop)
    stop = asyncio.Event()
    workers = [
        Worker(db, registry, batch_size=args.claim, concurrency=args.concurrency, poll_interval=1)
        for db in databases
    ]
    if args.rate == 0:
        await produce(databases[0], jobs=args.jobs, rate=0, batch=args.batch)
    samples: list[int] = []
    started = time.monotonic()
    tasks = [asyncio.create_task(w.run_forever(stop)) for w in workers]
    if args.rate > 0:
        tasks.append(
            asyncio.create_task(
                produce(databases[0], jobs=args.jobs, rate=args.rate, batch=args.batch)
            )
        )
    while not done.is_set():
        samples.append(await backlog(databases[0]))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), SAMPLE_S)
    seconds = time.monotonic() - started
    stop.set()
    await asyncio.gather(*tasks)
    return Result(engine=engine, jobs=ran, seconds=seconds, backlog=samples or [0])


async def run_engine(url: str, engine: str, args: argparse.Namespace, root: Path) -> Result:
    settings = Settings(
        database_url=url,
        files_dir=root / "files",
        secret_key_file=root / "helpwire-secret.key",
        relay_in_process=False,
        worker_in_process=False,
        log_json=False,
        log_level="WARNING",
    )
    migrate = create_engine(settings)
    await upgrade(migrate)
    await migrate.dispose()
    async with contextlib.AsyncExitStack() as stack:
        databases = []
        for _ in range(args.workers if engine == "postgres" else 1):
            # Each app opens its own engine, as separate worker processes would.
            app = create_app(settings)
            await stack.enter_async_context(LifespanManager(app))
            databases.append(app.state.database)
        return await drain(databases, args, engine)


@contextlib.asynccontextmanager
async def scratch_postgres() -> AsyncIterator[str | None]:
    admin_url = Settings(database_url=POSTGRES_URL).async_database_url
    name = f"helpwire_bench_jobs_{uuid.uuid4().hex[:8]}"
    admin = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        await admin.dispose()
        yield None
        return
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def slack_for(engine: str, args: argparse.Namespace) -> int:
    workers = args.workers if engine == "postgres" else 1
    return int(max(args.claim * workers + args.batch, 2 * args.rate))


def report(result: Result, args: argparse.Namespace) -> None:
    slack = slack_for(result.engine, args)
    verdict = "bounded" if result.bounded(slack) else "GREW"
    print(
        f"{result.engine:9} {result.jobs:>7,} jobs in {result.seconds:6.1f} s: "
        f"{result.rate:8,.0f} jobs/s; backlog max {max(result.backlog):,}, "
        f"first quarter max {result.first_quarter_max:,}, "
        f"last quarter max {result.last_quarter_max:,} "
        f"-> {verdict}"
    )


async def main(args: argparse.Namespace) -> int:
    grew = False
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if "sqlite" in args.engines:
            result = await run_engine(
                f"sqlite+aiosqlite:///{root / 'jobs.db'}", "sqlite", args, root
            )
            report(result, args)
            grew |= not result.bounded(slack_for("sqlite", args))
        if "postgres" in args.engines:
            async with scratch_postgres() as url:
                if url is not None:
                    result = await run_engine(url, "postgres", args, root)
                    report(result, args)
                    grew |= not result.bounded(slack_for("postgres", args))
    return 1 if grew else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=100.0, help="jobs/s enqueued; 0: all first")
    parser.add_argument("--batch", type=int, default=50, help="jobs per enqueuing transaction")
    parser.add_argument("--workers", type=int, default=2, help="workers (PostgreSQL)")
    parser.add_argument("--claim", type=int, default=20, help="jobs a worker claims at once")
    parser.add_argument("--concurrency", type=int, default=4, help="jobs a worker runs at once")
    parser.add_argument("--engines", default="sqlite,postgres")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
