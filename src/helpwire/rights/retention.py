"""Retention: closed tickets older than HELPWIRE_RETENTION_DAYS deleted, batch by batch.

A ticket goes with everything that is only about it: comments, their files (rows now,
bytes after COMMIT through the bytes job), timeline, tags, projects, CC addresses, search
entries, SLA clocks, rule runs, its row of report facts, and the mail kept for it (raw
copies included). The reports' daily and monthly counts are kept: a report of last year
still counts the tickets of last year. Each batch leaves one audit entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.files.models import File
from helpwire.jobs.registry import Handler, JobContext
from helpwire.jobs.service import enqueue_job
from helpwire.mail.models import MailMessage, MailRaw
from helpwire.rights.files import delete_bytes_later
from helpwire.tickets.models import Comment, Status, Ticket

RETENTION_KIND = "rights.retention"
RETENTION_EVERY = timedelta(hours=1)
# Tickets per transaction: short enough that SQLite's one writer is not held for long.
BATCH = 200


async def delete_expired_tickets(
    session: AsyncSession, *, now: datetime, days: int, batch: int = BATCH
) -> int:
    """Delete up to ``batch`` tickets closed more than ``days`` days before ``now``, the
    oldest first; how many were deleted."""
    cutoff = now - timedelta(days=days)
    # A closed ticket's status last changed when it was closed: read off the (status,
    # status_changed_at, id) index in its order, so a batch stops after ``batch`` rows
    # however many closed tickets are younger.
    expired = (
        await session.execute(
            select(Ticket.id, Ticket.number)
            .where(Ticket.status == Status.CLOSED.value, Ticket.status_changed_at < cutoff)
            .order_by(Ticket.status_changed_at, Ticket.id)
            .limit(batch)
        )
    ).all()
    if not expired:
        return 0
    ids = [row.id for row in expired]
    keys = list(
        await session.scalars(
            select(File.storage_key)
            .join(Comment, Comment.id == File.comment_id)
            .where(Comment.ticket_id.in_(ids))
        )
    )
    comment_ids = select(Comment.id).where(Comment.ticket_id.in_(ids))
    await session.execute(delete(File).where(File.comment_id.in_(comment_ids)))
    messages = select(MailMessage.id).where(MailMessage.ticket_id.in_(ids))
    await session.execute(delete(MailRaw).where(MailRaw.message_id.in_(messages)))
    await session.execute(delete(MailMessage).where(MailMessage.ticket_id.in_(ids)))
    # The rest goes by the foreign keys' cascades (comments, events, tags, search ...).
    await session.execute(delete(Ticket).where(Ticket.id.in_(ids)))
    await delete_bytes_later(session, keys=keys)
    numbers = sorted(row.number for row in expired)
    await audit(
        session,
        action="retention.tickets_deleted",
        target_type=TargetType.RETENTION,
        target_key="closed_tickets",
        after={"deleted": len(ids), "numbers": numbers, "closed_before": cutoff.isoformat()},
    )
    return len(ids)


def retention_job(*, days: int) -> Handler:
    """The hourly job; a full batch enqueues the next one at once, so a backlog (retention
    turned on for the first time) drains batch by batch without waiting for the hour."""

    async def run(context: JobContext) -> None:
        deleted = await delete_expired_tickets(context.session, now=context.now, days=days)
        if deleted == BATCH:
            await enqueue_job(
                context.session,
                kind=RETENTION_KIND,
                payload={},
                run_at=context.now,
                key=f"{RETENTION_KIND}:more",
            )

    return run
