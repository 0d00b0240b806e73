"""Tickets by group: what a team has open, and whether a group may go."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.groups.models import Group
from helpwire.groups.service import audit_group, group_snapshot
from helpwire.problems import Conflict
from helpwire.tickets.models import Status, Ticket

OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.HOLD)


async def open_counts_by_group(session: AsyncSession) -> dict[int, int]:
    """Per group, its tickets not solved or closed (ix_tickets_group_status: one index range
    per status)."""
    rows = await session.execute(
        select(Ticket.group_id, func.count())
        .where(Ticket.group_id.is_not(None), Ticket.status.in_([s.value for s in OPEN_STATUSES]))
        .group_by(Ticket.group_id)
    )
    return {int(group_id): int(count) for group_id, count in rows.all()}


async def delete_group(session: AsyncSession, *, group: Group) -> None:
    """Deleted only when no ticket is the group's; otherwise it is deactivated instead, so
    that those tickets keep showing which team had them."""
    if await session.scalar(select(Ticket.id).where(Ticket.group_id == group.id).limit(1)):
        raise Conflict(
            f"tickets belong to group {group.key!r}; deactivate it (is_active: false) instead"
        )
    before = group_snapshot(group)
    await audit_group(session, action="group.deleted", group=group, before=before, after=None)
    await session.delete(group)
    await session.flush()
