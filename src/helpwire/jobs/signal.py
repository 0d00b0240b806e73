"""Waking workers the moment a job's transaction commits.

In one process: the wake-up signal named JOBS_SIGNAL of the Database's subscribers
(db/subscribers.py), set after a commit that enqueued a job; each running worker waits on
it. Across processes (PostgreSQL): the enqueuing transaction also sends NOTIFY
helpwire_jobs, delivered at commit (never on rollback), and workers LISTEN for it. Workers
also poll, so a lost wake-up only delays a job.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.listen import wake_after_commit

PG_CHANNEL = "helpwire_jobs"
JOBS_SIGNAL = "jobs"


async def announce(session: AsyncSession) -> None:
    """Make sure workers hear of this transaction's jobs once it commits."""
    await wake_after_commit(session, signal_name=JOBS_SIGNAL, channel=PG_CHANNEL)
