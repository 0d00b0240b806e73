"""Rules for comments: writing one (with its files), reading, rating."""

from __future__ import annotations

import html as html_module
from collections.abc import Sequence

import nh3
from sqlalchemy import false, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import User
from helpwire.db.base import utcnow
from helpwire.files.models import File
from helpwire.problems import Forbidden, IllegalTransition, NotFound, ValidationProblem
from helpwire.search.service import add_text, append_to_ticket_document
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.models import BodyFormat, Comment, Ticket
from helpwire.tickets.rendering import render_body
from helpwire.tickets.visibility import can_see, may_speak_for_ticket


async def write_comment(
    session: AsyncSession,
    *,
    ticket: Ticket,
    author: User,
    body: str,
    body_format: BodyFormat,
    internal: bool,
    files: Sequence[File],
    rendered: tuple[str, str] | None = None,
    announce: bool = True,
    new_ticket_subject: str | None = None,
) -> Comment:
    """Store a comment, attach its files (checked by files_for_attachment), index it and
    (if ``announce``) record comment.created. ``rendered`` is render_body's result when
    the caller has it already. ``new_ticket_subject`` when the ticket is being filed with
    this comment: its comment counts include the comment already (the ticket is inserted
    with them, saving an UPDATE), it has no search row yet, and its subject is indexed
    here, before the body, so that both search documents go in one INSERT."""
    new_ticket = new_ticket_subject is not None
    stored, html = rendered or render_body(body, body_format)
    comment = Comment(
        ticket_id=ticket.id,
        author_id=author.id,
        body=stored,
        body_format=body_format.value,
        body_html=html,
        internal=internal,
        created_at=utcnow(),
    )
    comment.author = author
    session.add(comment)
    await session.flush()
    await _attach(session, comment=comment, files=files)
    if not new_ticket:
        ticket.comment_count = (ticket.comment_count or 0) + 1
        if internal:
            ticket.internal_note_count = (ticket.internal_note_count or 0) + 1
    if new_ticket_subject is not None:
        add_text(
            session,
            ticket_id=ticket.id,
            kind="subject",
            source_id=ticket.uid,
            text_value=new_ticket_subject,
        )
    add_text(
        session,
        ticket_id=ticket.id,
        kind="comment",
        source_id=str(comment.id),
        text_value=searchable_text(comment),
        internal=internal,
    )
    for file in files:
        add_text(
            session,
            ticket_id=ticket.id,
            kind="file",
            source_id=file.id,
            text_value=file.filename,
            internal=internal,
        )
    # Once for the comment and its files (and whatever texts the caller added before).
    await append_to_ticket_document(
        session, ticket_id=ticket.id, account_id=ticket.account_id, new_ticket=new_ticket
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


async def _attach(session: AsyncSession, *, comment: Comment, files: Sequence[File]) -> None:
    """Attach the files, each only if still unattached: of two transactions attaching one
    file, the second finds it taken (PostgreSQL re-checks the row once the first commits)
    and fails as a whole."""
    set_committed_value(comment, "files", list(files))
    if not files:
        return
    result = await session.execute(
        update(File)
        .where(File.id.in_([f.id for f in files]), File.comment_id.is_(None))
        .values(comment_id=comment.id)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != len(files):
        raise ValidationProblem.for_field(
            "files", "a file was attached elsewhere meanwhile; upload it again", "unknown_file"
        )
    for file in files:
        set_committed_value(file, "comment_id", comment.id)


def searchable_text(comment: Comment) -> str:
    """What a reader sees of the body: for HTML, the text without tags (so words inside
    removed scripts or attributes are not searchable)."""
    if comment.body_format == BodyFormat.HTML:
        return html_module.unescape(nh3.clean(comment.body_html, tags=set()))
    return comment.body


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


async def latest_comments(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, before_id: int | None, limit: int
) -> tuple[list[Comment], bool]:
    """The newest ``limit`` comments (of those before comment ``before_id``, if given),
    oldest first, internal notes only for staff. (page, whether earlier ones exist). Read
    newest first off the (ticket_id, id) index, so a long ticket costs one page."""
    query = select(Comment).where(Comment.ticket_id == ticket.id)
    if not actor.is_staff:
        query = query.where(Comment.internal == false())
    if before_id is not None:
        query = query.where(Comment.id < before_id)
    newest_first = query.order_by(Comment.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(newest_first)).unique())
    return rows[:limit][::-1], len(rows) > limit


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
    # Locked and read afresh: the version bumped below must not race another change.
    ticket = await session.get(
        Ticket, comment.ticket_id, with_for_update={"of": Ticket}, populate_existing=True
    )
    assert ticket is not None
    if not may_speak_for_ticket(actor, ticket):
        raise Forbidden("only the requester or an account-wide user rates this ticket's replies")
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
