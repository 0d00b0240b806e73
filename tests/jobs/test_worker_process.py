"""A `helpwire worker` process killed with SIGKILL mid-job: the job runs again once its
lease is over, and its first attempt left nothing behind."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from helpwire.db.session import Database
from helpwire.jobs.models import Job
from helpwire.jobs.registry import JobRegistry
from helpwire.jobs.service import enqueue_job
from helpwire.jobs.worker import Worker
from tests.jobs import plugin
from tests.relays import FakeClock

ROOT = Path(__file__).resolve().parents[2]


def worker_env(database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELPWIRE_")}
    env.update(
        HELPWIRE_DATABASE_URL=database_url,
        HELPWIRE_FILES_DIR=str(tmp_path / "files"),
        HELPWIRE_SECRET_KEY_FILE=str(tmp_path / "helpwire-secret.key"),
        HELPWIRE_WORKER_POLL_SECONDS="0.2",
        HELPWIRE_LOG_LEVEL="WARNING",
        HELPWIRE_JOB_PLUGINS="tests.jobs.plugin:register",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
    )
    return env


def start_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "helpwire", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def failure(process: subprocess.Popen[bytes]) -> str | None:
    """The end of a worker's stderr once it has exited; None while it runs."""
    if process.poll() is None or process.stderr is None:
        return None
    return process.stderr.read().decode()[-2000:]


async def until_exists(path: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    # The worker process is seen only through what its handler writes, so it is polled.
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(path.exists):
        if (ended := failure(process)) is not None:
            raise AssertionError(f"worker exited: {ended}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path.name} never appeared")
        await asyncio.sleep(0.05)


async def test_a_worker_killed_mid_job_has_its_job_run_again_after_the_lease(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    async with database.writing() as session:
        await enqueue_job(session, kind="test.stall_first_attempt", payload={"dir": str(tmp_path)})
    process = start_worker(worker_env(database_url, tmp_path))
    try:
        await until_exists(tmp_path / "started-1", process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    async with database.reader() as session:
        job = (await session.scalars(select(Job).where(Job.kind.startswith("test.")))).one()
    assert (job.state, job.attempts) == ("running", 1)
    assert job.locked_until is not None

    registry = JobRegistry()
    plugin.register(registry)
    clock = FakeClock()
    clock.now = job.locked_until - timedelta(seconds=1)
    worker = Worker(database, registry, clock=clock)
    assert await worker.run_once() == 0  # the dead worker's lease still holds
    clock.advance(timedelta(seconds=2))
    assert await worker.run_once() == 1
    assert (tmp_path / "done").read_text() == "2"
    async with database.reader() as session:
        assert (await session.scalars(select(Job).where(Job.id == job.id))).first() is None
