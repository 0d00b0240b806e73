"""The jobs every installation runs, and the registry a worker is assembled with."""

from __future__ import annotations

from datetime import timedelta

from helpwire.accounts.signin import forget_expired_sessions
from helpwire.api.idempotency import forget_expired
from helpwire.db.statistics import refresh_statistics
from helpwire.files.dbstorage import collect_orphans
from helpwire.jobs.registry import JobContext, JobRegistry
from helpwire.mail.config import MailConfig
from helpwire.notify.channels import purge_delivered
from helpwire.presence import service as presence
from helpwire.reports.aggregates import fold, rebuild
from helpwire.rights.files import DELETE_BYTES_KIND, bytes_deleter
from helpwire.rights.retention import RETENTION_EVERY, RETENTION_KIND, retention_job
from helpwire.rules.running import automations_job
from helpwire.settings import Settings
from helpwire.sla import admin as sla_admin
from helpwire.sla import service as sla

HOURLY = timedelta(hours=1)
AUTOMATIONS_KIND = "rules.automations"
AUTOMATIONS_EVERY = timedelta(minutes=1)


REBUILD_KIND = "reports.rebuild"
FOLD_KIND = "reports.fold"


async def rebuild_reports(context: JobContext) -> None:
    await rebuild(context.session)


async def fold_reports(context: JobContext) -> None:
    await fold(context.session)


def job_registry(settings: Settings) -> JobRegistry:
    """Every job kind a worker of this installation runs: the hourly housekeeping, and
    those of HELPWIRE_JOB_PLUGINS."""
    registry = JobRegistry()
    idempotency_ttl = timedelta(hours=settings.idempotency_ttl_hours)
    retention = timedelta(days=settings.delivery_retention_days)

    async def forget_idempotency_keys(context: JobContext) -> None:
        await forget_expired(context.session, ttl=idempotency_ttl)

    async def purge_deliveries(context: JobContext) -> None:
        await purge_delivered(context.session, older_than=retention)

    async def forget_web_sessions(context: JobContext) -> None:
        await forget_expired_sessions(context.session)

    async def forget_orphan_file_bytes(context: JobContext) -> None:
        await collect_orphans(context.session, now=context.now)

    registry.every("housekeeping.idempotency_keys", HOURLY, forget_idempotency_keys)
    registry.every("housekeeping.delivered_notifications", HOURLY, purge_deliveries)
    registry.every("housekeeping.web_sessions", HOURLY, forget_web_sessions)

    async def refresh_planner_statistics(context: JobContext) -> None:
        await refresh_statistics(context.session)

    # SQLite's statistics follow the data as it grows and shifts; PostgreSQL's autovacuum
    # keeps its own, so there the job is not scheduled at all.
    if settings.is_sqlite:
        registry.every("housekeeping.sqlite_statistics", HOURLY, refresh_planner_statistics)
    # Bytes kept in the database whose upload never finished or was never recorded; a
    # no-op with local storage unless `helpwire files migrate` left some behind.
    registry.every("housekeeping.file_orphans", HOURLY, forget_orphan_file_bytes)

    async def forget_presence(context: JobContext) -> None:
        await presence.forget_expired(context.session, now=context.now)

    # Presence rows of pages closed long ago: they count for nothing, but take room.
    registry.every("housekeeping.presence", HOURLY, forget_presence)
    # Each ticket's next SLA warning or breach (sla.service), and the clocks brought up to
    # date when a policy or a calendar changes (sla.admin).
    registry.register(sla.TIMER_KIND, sla.run_timer)
    registry.register(sla_admin.REAPPLY_KIND, sla_admin.reapply)
    # The reports' daily counts made again from the facts (after migration 0018), and
    # the changes since folded into them every minute.
    registry.register(REBUILD_KIND, rebuild_reports)
    registry.every(FOLD_KIND, timedelta(minutes=1), fold_reports)
    # Automations: every minute, each acting once per ticket and occurrence.
    registry.every(
        AUTOMATIONS_KIND,
        AUTOMATIONS_EVERY,
        automations_job(mail=MailConfig.from_settings(settings)),
    )
    # File bytes let go of by an erasure or by retention, deleted once that commits.
    registry.register(DELETE_BYTES_KIND, bytes_deleter(settings))
    # Closed tickets past HELPWIRE_RETENTION_DAYS, when it is set.
    if settings.retention_days is not None:
        registry.every(RETENTION_KIND, RETENTION_EVERY, retention_job(days=settings.retention_days))
    registry.load_plugins(settings.job_plugins)
    return registry
