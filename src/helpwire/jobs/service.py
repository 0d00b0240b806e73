"""Enqueuing, cancelling and looking at jobs, inside the caller's transaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.base import utcnow
from helpwire.jobs.models import _WAITING_SQL, WAITING, Job, JobState
from helpwire.jobs.registry import DEFAULT_MAX_ATTEMPTS
from helpwire.jobs.signal import announce
from helpwire.problems import Conflict, NotFound

MAX_KIND = 100
MAX_KEY = 200


def _check(kind: str, key: str | None, payload: dict[str, Any]) -> None:
    if not kind or len(kind) > MAX_KIND:
        raise ValueError(f"a job kind has 1 to {MAX_KIND} characters")
    if key is not None and (not key or len(key) > MAX_KEY):
        raise ValueError(f"a job key has 1 to {MAX_KEY} characters")
    json.dumps(payload)  # a payload that cannot be stored fails here, in the caller


async def enqueue_job(
    session: AsyncSession,
    *,
    kind: str,
    payload: dict[str, Any],
    run_at: datetime | None = None,
    key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    replace: bool = True,
) -> None:
    """Add a job to the caller's transaction: it exists once that commits, never if it
    rolls back. A ``key`` is unique among waiting jobs: enqueuing the same key again moves
    the waiting job to the new time and payload (or, with ``replace=False``, keeps it)."""
    _check(kind, key, payload)
    now = utcnow()
    values = {
        "kind": kind,
        "key": key,
        "payload": payload,
        "state": JobState.PENDING.value,
        "run_at": run_at or now,
        "attempts": 0,
        "max_attempts": max_attempts,
        "created_at": now,
        "updated_at": now,
    }
    dialect = session.bind.dialect.name
    insert = postgresql.insert(Job) if dialect == "postgresql" else sqlite.insert(Job)
    statement = insert.values(**values)
    if key is not None:
        moved = {
            name: statement.excluded[name]
            for name in ("kind", "payload", "run_at", "max_attempts", "updated_at")
        }
        statement = (
            statement.on_conflict_do_update(
                index_elements=["key"], index_where=text(_WAITING_SQL), set_=moved
            )
            if replace
            else statement.on_conflict_do_nothing(
                index_elements=["key"], index_where=text(_WAITING_SQL)
            )
        )
    await session.execute(statement)
    await announce(session)


async def cancel_job(session: AsyncSession, *, key: str) -> bool:
    """Drop the waiting job with this key (in the caller's transaction); whether there was
    one. A job already running finishes."""
    result = await session.execute(
        delete(Job)
        .where(Job.key == key, Job.state.in_(WAITING))
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


async def list_jobs(
    session: AsyncSession,
    *,
    state: JobState | None,
    kind: str | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[Job], bool]:
    """Newest first; whether there are more."""
    query = select(Job).order_by(Job.id.desc()).limit(limit + 1)
    if state is not None:
        query = query.where(Job.state == state.value)
    if kind is not None:
        query = query.where(Job.kind == kind)
    if before_id is not None:
        query = query.where(Job.id < before_id)
    rows = list((await session.scalars(query)).all())
    return rows[:limit], len(rows) > limit


async def get_job(session: AsyncSession, *, job_id: int) -> Job:
    job = await session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job


async def retry_job(session: AsyncSession, *, job_id: int) -> Job:
    """Run a dead or failed job again now, with its attempts counted from zero."""
    job = await get_job(session, job_id=job_id)
    if job.state == JobState.RUNNING.value:
        raise Conflict(f"job {job_id} is running")
    if job.key is not None and job.state == JobState.DEAD.value:
        waiting = await session.scalar(
            select(Job.id).where(Job.key == job.key, Job.state.in_(WAITING))
        )
        if waiting is not None:
            raise Conflict(f"job {waiting} with the same key is waiting already")
    now = utcnow()
    job.state = JobState.PENDING.value
    job.attempts = 0
    job.run_at = now
    job.updated_at = now
    await session.flush()
    await announce(session)
    return job


async def queue_stats(session: AsyncSession, *, now: datetime) -> tuple[dict[str, int], timedelta]:
    """Jobs by state, and how long the oldest due job has waited past its time."""
    rows = (await session.execute(select(Job.state, func.count()).group_by(Job.state))).all()
    counts = {state.value: 0 for state in JobState}
    counts.update({str(state): int(count) for state, count in rows})
    oldest = await session.scalar(
        select(func.min(Job.run_at)).where(Job.state.in_(WAITING), Job.run_at <= now)
    )
    if isinstance(oldest, str):  # SQLite computes min() over text
        oldest = datetime.fromisoformat(oldest)
    if oldest is None:
        return counts, timedelta(0)
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return counts, max(now - oldest, timedelta(0))
