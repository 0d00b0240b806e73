"""Who may download a file. It lives in tickets, not files: a file is as visible as the
comment it is attached to, and tickets depends on files, never the reverse."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.files.models import File
from helpwire.problems import NotFound
from helpwire.tickets.models import Comment, Ticket
from helpwire.tickets.visibility import can_see


async def check_can_download(session: AsyncSession, *, actor: Actor, row: File) -> None:
    """A file is as visible as the comment it is attached to; unattached, only to its
    uploader and staff. Anything else is a 404, like a file that does not exist."""
    if actor.is_staff:
        return
    if row.comment_id is None:
        if row.uploader_id != actor.user.id:
            raise NotFound(f"no file {row.id}")
        return
    found = (
        (
            await session.execute(
                select(Comment.internal, Ticket)
                .join(Ticket, Ticket.id == Comment.ticket_id)
                .where(Comment.id == row.comment_id)
            )
        )
        .unique()
        .one_or_none()
    )
    if found is None:
        raise NotFound(f"no file {row.id}")
    internal, ticket = found
    if internal or not can_see(actor.user, ticket, user_project_ids=set(actor.project_ids)):
        raise NotFound(f"no file {row.id}")
