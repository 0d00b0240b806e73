"""The worker inside `helpwire serve`, and the housekeeping it runs."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from asgi_lifespan import LifespanManager
from sqlalchemy import func, select

from helpwire.app import create_app
from helpwire.db.base import new_uuid, utcnow
from helpwire.db.session import Database
from helpwire.housekeeping import job_registry
from helpwire.jobs.models import Job
from helpwire.jobs.service import enqueue_job
from helpwire.jobs.worker import Worker
from helpwire.notify.models import Channel, Delivery
from helpwire.settings import Settings
from tests.jobs import plugin
from tests.relays import FakeClock


async def test_serve_runs_a_worker_by_default(settings: Settings) -> None:
    assert Settings().worker_in_process is True
    serving = settings.model_copy(
        update={"worker_in_process": True, "job_plugins": "tests.jobs.plugin:register"}
    )
    plugin.ran.clear()
    app = create_app(serving)
    async with LifespanManager(app):
        database: Database = app.state.database
        async with database.writing() as session:
            await enqueue_job(session, kind="test.signal", payload={})
        assert await asyncio.to_thread(plugin.ran.wait, 30)
        async with database.reader() as session:
            kinds = set(await session.scalars(select(Job.kind)))
    # The recurring housekeeping was scheduled before the first pass.
    assert kinds >= {
        "housekeeping.idempotency_keys",
        "housekeeping.delivered_notifications",
        "housekeeping.web_sessions",
        "housekeeping.file_orphans",
        "housekeeping.presence",
    }
    # Planner statistics are SQLite's to refresh; PostgreSQL's autovacuum keeps its own.
    assert ("housekeeping.sqlite_statistics" in kinds) == settings.is_sqlite


async def test_housekeeping_purges_old_delivered_notifications_hourly(
    database: Database, settings: Settings, make_worker: Callable[..., Worker], clock: FakeClock
) -> None:
    old = utcnow() - timedelta(days=settings.delivery_retention_days + 1)
    async with database.writing() as session:
        channel = Channel(
            name="hook",
            kind="webhook",
            url="http://127.0.0.1:9/",
            events=["ticket.created"],
            filters={},
            consecutive_failures=0,
            created_at=old,
            updated_at=old,
        )
        session.add(channel)
        await session.flush()
        session.add(
            Delivery(
                message_id=new_uuid(),
                channel_id=channel.id,
                event_type="ticket.created",
                payload={},
                state="delivered",
                attempt_count=1,
                schedule_step=0,
                created_at=old,
                delivered_at=old,
            )
        )
    registry = job_registry(settings)
    worker = make_worker(registry)
    await worker.schedule_recurring()
    assert await worker.run_once() == 0  # the first run is at the top of the next period
    clock.advance(timedelta(hours=1))
    # The hourly housekeeping (SQLite's planner statistics besides; expired presence rows
    # among it) and the jobs of every minute (automations, the reports' counts): each
    # once, however late.
    hourly = [r for r in registry.recurring.values() if r.every == timedelta(hours=1)]
    assert len(hourly) == (6 if settings.is_sqlite else 5)
    assert await worker.run_once() == len(registry.recurring)
    async with database.reader() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0
        next_runs = await session.scalar(select(func.count()).select_from(Job))
        assert next_runs == len(registry.recurring)
