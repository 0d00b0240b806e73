"""Rules for comments: writing one (with its files), reading, rating."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import User
from helpwire.db.base import utcnow
from helpwire.files.service import files_for_attachment
from helpwire.problems import Forbidden, IllegalTransition, NotFound, ValidationProblem
from helpwire.search.service import index_text
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.models import BodyFormat, Comment, Ticket
from helpwire.tickets.rendering import render_body
from helpwire.tickets.visibility import can_see


async def write_comment(
    session: AsyncSession,
    *,
    ticket: Ticket,
    author: User,
    body: str,
    body_format: BodyFormat,
    internal: bool,
    file_ids: Sequence[str],
    uploader: User,
    max_files: int,
    announce: bool = True,
) -> Comment:
    """Store a comment, attach its files, index it and (if ``announce``) record
    comment.created."""
    files = await files_for_attachment(
        session, uploader=uploader, file_ids=file_ids, limit=max_files
    )
    stored, rendered = render_body(body, body_format)
    comment = Comment(
        ticket_id=ticket.id,
        author_id=author.id,
        body=stored,
        body_format=body_format.value,
        body_html=rendered,
        internal=internal,
        created_at=utcnow(),
    )
    comment.author = author
    session.add(comment)
    await session.flush()
    for file in files:
        file.comment_id = comment.id
    await session.flush()
    await session.refresh(comment, ["files"])
    ticket.comment_count = (ticket.comment_count or 0) + 1
    if internal:
        ticket.internal_note_count = (ticket.internal_note_count or 0) + 1
    await index_text(
        session,
        ticket_id=ticket.id,
        kind="comment",
        source_id=str(comment.id),
        text_value=body,
        internal=internal,
    )
    for file in files:
        await index_text(
            session,
            ticket_id=ticket.id,
            kind="file",
            source_id=file.id,
            text_value=file.filename,
            internal=internal,
        )
    if not announce:
        return comment
    await record(
        session,
        ticket=ticket,
        actor=author,
        type=EventType.COMMENT_CREATED,
        internal=internal,
        data={
            "comment_id": comment.id,
            "internal": internal,
            "files": [{"id": f.id, "filename": f.filename} for f in files],
        },
    )
    return comment


async def list_comments(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, after_id: int | None, limit: int
) -> tuple[list[Comment], bool]:
    """Comments oldest first, internal notes only for staff. (page, whether more follow)."""
    query = select(Comment).where(Comment.ticket_id == ticket.id)
    if not actor.is_staff:
        query = query.where(Comment.internal == false())
    if after_id is not None:
        query = query.where(Comment.id > after_id)
    rows = list((await session.scalars(query.order_by(Comment.id).limit(limit + 1))).unique())
    return rows[:limit], len(rows) > limit


async def get_comment(session: AsyncSession, *, actor: Actor, comment_id: int) -> Comment:
    comment = await session.get(Comment, comment_id)
    if comment is None or (comment.internal and not actor.is_staff):
        raise NotFound(f"no comment {comment_id}")
    ticket = await session.get(Ticket, comment.ticket_id)
    if ticket is None or not can_see(actor.user, ticket, user_project_ids=set(actor.project_ids)):
        raise NotFound(f"no comment {comment_id}")
    return comment


async def rate_comment(
    session: AsyncSession, *, actor: Actor, comment_id: int, score: int, comment_text: str | None
) -> Comment:
    """Thumbs up (+1) or down (-1) from the customer side on a public reply from support."""
    if score not in (1, -1):
        raise ValidationProblem.for_field("score", "must be 1 or -1")
    comment = await get_comment(session, actor=actor, comment_id=comment_id)
    if actor.is_staff:
        raise Forbidden("only the customer side rates replies")
    if comment.internal or not comment.author.is_staff:
        raise IllegalTransition("only public replies from support can be rated")
    ticket = await session.get(Ticket, comment.ticket_id)
    assert ticket is not None
    comment.rating_score = score
    comment.rating_comment = comment_text
    comment.rated_at = utcnow()
    touch(ticket)
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.COMMENT_RATED,
        data={"comment_id": comment.id, "score": score, "comment": comment_text},
    )
    await session.flush()
    return comment
