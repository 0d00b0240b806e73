"""Merging a ticket into another, and splitting comments off into a new ticket.

Both move comments rather than copy them: a comment (with its files, its search texts and
its rating) lives on exactly one ticket, so counts, search, downloads and the reports agree
without a second copy to keep in step. A moved comment remembers the ticket it came from
and when (``moved_from_number``, ``moved_at``), which the console shows as "from #N" and the
Selectel face as the comment's ``splitted_*``. The ticket left behind says where its
conversation went: a merged ticket gets a closing note naming its new home and points at
it (``merged_into``); a split-off ticket points at its origin (``split_from``). Both
tickets of either move record an event (``ticket.merged`` / ``ticket.split`` on the old
one with ``into``, and ``ticket.merged`` with ``from`` or ``ticket.created`` with
``split_from`` on the other), so every subscriber hears of the move.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from helpwire.accounts.actor import Actor
from helpwire.db.base import utcnow
from helpwire.db.counters import number_ticket
from helpwire.fields.service import copy_values
from helpwire.problems import Forbidden, IllegalTransition, NotFound, ValidationProblem
from helpwire.search.service import add_text, move_texts
from helpwire.tickets import followers
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.inserting import insert_ticket
from helpwire.tickets.models import BodyFormat, Comment, Status, Ticket, TicketTag
from helpwire.tickets.service import add_comment_to, close_as, get_ticket
from helpwire.tickets.visibility import visible_clause

MAX_SPLIT_COMMENTS = 500


def _check_staff(actor: Actor, verb: str) -> None:
    if not actor.is_staff:
        raise Forbidden(f"only agents and admins {verb} tickets")


def can_move(ticket: Ticket) -> bool:
    """Whether the ticket may give or take comments now (see :func:`_check_open_to_move`)."""
    return ticket.merged_into_id is None and ticket.status != Status.CLOSED


def _check_open_to_move(ticket: Ticket, *, role: str) -> None:
    """A merged ticket is closed and empty, and a closed one takes no more changes to its
    conversation: neither gives nor takes comments until it is reopened."""
    if ticket.merged_into_id is not None:
        into = ticket.merged_into.number if ticket.merged_into else None
        raise IllegalTransition(
            f"{role} #{ticket.number} was merged into #{into} already",
            merged_into=into,
        )
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(
            f"{role} #{ticket.number} is closed; reopen it first", current_status="closed"
        )


async def _target(session: AsyncSession, *, actor: Actor, number: int) -> Ticket:
    try:
        return await get_ticket(session, actor=actor, number=number, for_update=True)
    except NotFound:
        raise ValidationProblem.for_field("into", f"no ticket {number}", "unknown_ticket") from None


async def merge_ticket(
    session: AsyncSession, *, actor: Actor, number: int, into: int
) -> tuple[Ticket, Ticket]:
    """Move every comment of ticket ``number`` to ticket ``into``, close it with a note
    that says where its conversation went, and hand its followers over. (merged, target)."""
    _check_staff(actor, "merge")
    if number == into:
        raise ValidationProblem.for_field("into", "a ticket cannot be merged into itself", "same")
    # Locked in number order, so that two merges of the same pair cannot deadlock.
    if number < into:
        source = await get_ticket(session, actor=actor, number=number, for_update=True)
        target = await _target(session, actor=actor, number=into)
    else:
        target = await _target(session, actor=actor, number=into)
        source = await get_ticket(session, actor=actor, number=number, for_update=True)
    if source.account_id != target.account_id:
        raise ValidationProblem.for_field(
            "into", "a ticket is merged only into a ticket of the same account", "other_account"
        )
    _check_open_to_move(source, role="ticket")
    _check_open_to_move(target, role="target")

    now = utcnow()
    public = await _public_count(session, source.id)
    await session.execute(
        update(Comment)
        .where(Comment.ticket_id == source.id)
        .values(ticket_id=target.id, moved_from_number=source.number, moved_at=now)
        .execution_options(synchronize_session=False)
    )
    await move_texts(session, from_ticket_id=source.id, to_ticket_id=target.id, comment_ids=None)
    target.comment_count += source.comment_count
    target.internal_note_count += source.internal_note_count
    source.comment_count, source.internal_note_count = 0, 0
    _carry_activity(target, source)
    await followers.copy_followers(session, from_ticket=source, to_ticket=target)
    source.merged_into_id, source.merged_into = target.id, target

    touch(target)
    await record(
        session,
        ticket=target,
        actor=actor.user,
        type=EventType.TICKET_MERGED,
        data={"from": source.number, "subject": source.subject, "comments": public},
    )
    await record(
        session,
        ticket=source,
        actor=actor.user,
        type=EventType.TICKET_MERGED,
        data={"into": target.number, "subject": target.subject, "comments": public},
    )
    # The note is a public reply, so the requester (and the CCs) are told by mail where
    # the conversation went, as of any reply.
    await add_comment_to(
        session,
        actor=actor,
        ticket=source,
        body=f"This request was merged into #{target.number} ({target.subject}); "
        "the conversation continues there.",
        body_format=BodyFormat.TEXT,
        internal=False,
        file_ids=(),
        max_files=0,
    )
    await close_as(
        session, actor=actor.user, ticket=source, extra={"reason": "merged", "into": target.number}
    )
    await session.flush()
    return source, target


async def _public_count(session: AsyncSession, ticket_id: int) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Comment)
        .where(Comment.ticket_id == ticket_id, Comment.internal == false())
    )
    return int(count or 0)


def _carry_activity(target: Ticket, source: Ticket) -> None:
    """What either side last wrote now belongs to the target: a customer's unanswered
    message on the merged ticket still asks support for an answer there."""
    for name in ("last_customer_activity_at", "last_agent_activity_at"):
        times = [t for t in (getattr(target, name), getattr(source, name)) if t is not None]
        setattr(target, name, max(times) if times else None)


async def split_ticket(
    session: AsyncSession,
    *,
    actor: Actor,
    number: int,
    comment_ids: Sequence[int],
    subject: str | None = None,
    via: str = "api",
) -> tuple[Ticket, Ticket]:
    """Move the comments ``comment_ids`` of ticket ``number`` to a new ticket of the same
    requester, account, access and properties, split from it. (original, new ticket)."""
    _check_staff(actor, "split")
    source = await get_ticket(session, actor=actor, number=number, for_update=True)
    _check_open_to_move(source, role="ticket")
    chosen = await _chosen_comments(session, source=source, comment_ids=comment_ids)
    now = utcnow()
    ticket = _new_ticket_like(source, subject=subject or source.subject, via=via, now=now)
    _take_activity(ticket, chosen, now=now)
    await number_ticket(session, ticket)
    await insert_ticket(session, ticket)
    await copy_values(session, from_ticket_id=source.id, to_ticket_id=ticket.id)
    for comment in chosen:
        comment.ticket_id = ticket.id
        comment.moved_from_number = source.number
        comment.moved_at = now
    internal = sum(1 for c in chosen if c.internal)
    ticket.comment_count, ticket.internal_note_count = len(chosen), internal
    source.comment_count -= len(chosen)
    source.internal_note_count -= internal
    await session.flush()
    add_text(
        session,
        ticket_id=ticket.id,
        kind="subject",
        source_id=ticket.uid,
        text_value=ticket.subject,
    )
    # The new ticket's row of the index is built from its subject and the moved texts.
    file_ids = [f.id for c in chosen for f in c.files]
    await move_texts(
        session,
        from_ticket_id=source.id,
        to_ticket_id=ticket.id,
        comment_ids=[c.id for c in chosen],
        file_ids=file_ids,
    )
    await followers.copy_followers(session, from_ticket=source, to_ticket=ticket)
    opening = next(c for c in chosen if not c.internal)
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.TICKET_CREATED,
        data={
            "comment_id": opening.id,
            "requester": source.requester.username,
            "via": via,
            "split_from": source.number,
            "comments": len(chosen) - internal,
            "files": [{"id": f.id, "filename": f.filename} for f in opening.files],
        },
    )
    touch(source)
    await record(
        session,
        ticket=source,
        actor=actor.user,
        type=EventType.TICKET_SPLIT,
        data={"into": ticket.number, "subject": ticket.subject, "comments": len(chosen) - internal},
    )
    await session.flush()
    return source, ticket


async def _chosen_comments(
    session: AsyncSession, *, source: Ticket, comment_ids: Sequence[int]
) -> list[Comment]:
    """The comments to split off, oldest first; refused unless each is the ticket's, one of
    them is public (it opens the new ticket) and at least one comment stays behind."""
    wanted = list(dict.fromkeys(comment_ids))
    if not wanted:
        raise ValidationProblem.for_field("comment_ids", "choose at least one comment", "empty")
    if len(wanted) > MAX_SPLIT_COMMENTS:
        raise ValidationProblem.for_field(
            "comment_ids", f"at most {MAX_SPLIT_COMMENTS} comments at once", "too_many"
        )
    rows = await session.scalars(
        select(Comment)
        .where(Comment.ticket_id == source.id, Comment.id.in_(wanted))
        .order_by(Comment.id)
    )
    chosen = list(rows.unique())
    found = {c.id for c in chosen}
    # The same answer for another ticket's comment and for none at all: nothing is
    # learnt of other tickets' comments.
    missing = [i for i in wanted if i not in found]
    if missing:
        listed = ", ".join(str(i) for i in missing)
        raise ValidationProblem.for_field(
            "comment_ids", f"not comments of ticket #{source.number}: {listed}", "not_of_ticket"
        )
    if len(chosen) >= source.comment_count:
        raise ValidationProblem.for_field(
            "comment_ids",
            "a split leaves at least one comment behind; to move them all, merge the ticket",
            "all_comments",
        )
    if all(c.internal for c in chosen):
        raise ValidationProblem.for_field(
            "comment_ids", "choose at least one public comment to open the new ticket", "internal"
        )
    return chosen


def _new_ticket_like(source: Ticket, *, subject: str, via: str, now: datetime) -> Ticket:
    """A new ticket with ``source``'s people, place and properties, split from it."""
    ticket = Ticket(
        subject=subject,
        type=source.type,
        priority=source.priority,
        status=Status.OPEN.value,
        topic_id=source.topic_id,
        subtopic_id=source.subtopic_id,
        attributes={},
        requester_id=source.requester_id,
        assignee_id=source.assignee_id,
        account_id=source.account_id,
        access_level=source.access_level,
        context={"split_from": source.number},
        via=via,
        split_from_id=source.id,
        group_id=source.group_id,
        escalated=False,
        comment_count=0,
        internal_note_count=0,
        version=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    # Relationships set by hand, as create_ticket does: nothing is loaded lazily later.
    ticket.requester = source.requester
    ticket.assignee = source.assignee
    ticket.account = source.account
    ticket.topic = source.topic
    ticket.subtopic = source.subtopic
    ticket.group = source.group
    ticket.follow_up_of = None
    ticket.split_from = source
    ticket.merged_into = None
    ticket.tag_rows = [TicketTag(tag=tag, ticket_created_at=now) for tag in source.tags]
    ticket.projects = list(source.projects)
    return ticket


def _take_activity(ticket: Ticket, chosen: list[Comment], *, now: datetime) -> None:
    """The new ticket's read state from the messages it starts with: support has just
    read them (it split them off); the customer side has not seen the new ticket."""
    public = [c for c in chosen if not c.internal]
    by_customer = [c.created_at for c in public if not c.author.is_staff]
    by_staff = [c.created_at for c in public if c.author.is_staff]
    ticket.last_customer_activity_at = max(by_customer) if by_customer else None
    ticket.last_agent_activity_at = max(by_staff) if by_staff else None
    ticket.agent_read_at = now


@dataclass(frozen=True)
class Related:
    """The tickets merged into a ticket, and the ones split off it, that the actor sees."""

    merged_from: list[Ticket]
    split_into: list[Ticket]


async def related_tickets(session: AsyncSession, *, actor: Actor, ticket: Ticket) -> Related:
    visible = visible_clause(actor.user, user_project_ids=set(actor.project_ids))

    async def pointing(column: InstrumentedAttribute[int | None]) -> list[Ticket]:
        rows = await session.scalars(
            select(Ticket).where(column == ticket.id, visible).order_by(Ticket.id)
        )
        return list(rows.unique())

    return Related(
        merged_from=await pointing(Ticket.merged_into_id),
        split_into=await pointing(Ticket.split_from_id),
    )
