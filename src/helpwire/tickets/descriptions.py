"""The text each ticket was filed with: its first public comment, for lists that show a
description next to the subject (CoCalc's get_support_tickets, like Zendesk's)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.tickets.models import Comment


async def first_bodies(session: AsyncSession, *, ticket_ids: Sequence[int]) -> dict[int, str]:
    """Ticket id -> body of its first public comment, for a whole page in one query."""
    if not ticket_ids:
        return {}
    first_ids = (
        select(func.min(Comment.id))
        .where(Comment.ticket_id.in_(list(ticket_ids)), Comment.internal.is_(False))
        .group_by(Comment.ticket_id)
    )
    rows = await session.execute(
        select(Comment.ticket_id, Comment.body).where(Comment.id.in_(first_ids))
    )
    return {ticket_id: body for ticket_id, body in rows.tuples()}
