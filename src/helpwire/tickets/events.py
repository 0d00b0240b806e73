"""The append-only timeline. Every change to a ticket goes through :func:`record`, in the
transaction that made the change, which hands the event to the subscribers registered for
its type (db/subscribers.py; notifications are one), in that same transaction."""

from __future__ import annotations

import enum
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import User
from helpwire.db.base import new_uuid, utcnow
from helpwire.db.subscribers import subscribers_of
from helpwire.tickets.models import Event, Ticket


class EventType(enum.StrEnum):
    TICKET_CREATED = "ticket.created"
    TICKET_UPDATED = "ticket.updated"
    TICKET_STATUS_CHANGED = "ticket.status_changed"
    TICKET_ASSIGNED = "ticket.assigned"
    TICKET_ESCALATED = "ticket.escalated"
    TICKET_RATED = "ticket.rated"
    COMMENT_CREATED = "comment.created"
    COMMENT_RATED = "comment.rated"
    # Recorded on both tickets: {"into": N} on the one merged (or split) away from, and
    # {"from": N} on the one that received its comments (tickets.moving).
    TICKET_MERGED = "ticket.merged"
    TICKET_SPLIT = "ticket.split"
    # Written by helpwire.sla: a target's warning time, and its due time, passed.
    SLA_WARNING = "sla.warning"
    SLA_BREACHED = "sla.breached"
    # Written by helpwire.rules: a trigger or automation ran, why, and what it did.
    RULE_APPLIED = "rule.applied"
    # Written by helpwire.rights: the personal data of the requester or of someone who
    # wrote on the ticket was erased (internal: why a name reads "erased user").
    PERSON_ERASED = "person.erased"


def touch(ticket: Ticket) -> None:
    """Mark the ticket changed: new updated_at, new ETag."""
    ticket.updated_at = utcnow()
    ticket.version = (ticket.version or 0) + 1


async def record(
    session: AsyncSession,
    *,
    ticket: Ticket,
    actor: User | None,
    type: EventType,
    data: dict[str, Any] | None = None,
    internal: bool = False,
) -> Event:
    event = Event(
        uid=new_uuid(),
        ticket_id=ticket.id,
        actor_id=actor.id if actor else None,
        type=type.value,
        internal=internal,
        data=data or {},
        created_at=utcnow(),
    )
    event.actor = actor
    session.add(event)
    for subscriber in subscribers_of(session).for_type(event.type):
        await subscriber(session, event=event, ticket=ticket)
    return event


async def list_events(
    session: AsyncSession,
    *,
    ticket: Ticket,
    include_internal: bool,
    after_id: int | None,
    limit: int,
) -> tuple[list[Event], bool]:
    """The timeline oldest first. (page, whether more follow)."""
    query = select(Event).where(Event.ticket_id == ticket.id)
    if not include_internal:
        query = query.where(Event.internal == false())
    if after_id is not None:
        query = query.where(Event.id > after_id)
    rows = list((await session.scalars(query.order_by(Event.id).limit(limit + 1))).unique())
    return rows[:limit], len(rows) > limit


async def events_between(
    session: AsyncSession,
    *,
    ticket: Ticket,
    include_internal: bool,
    since: datetime | None,
    until: datetime | None,
    leave_out: Collection[str] = (),
    limit: int,
) -> tuple[list[Event], bool]:
    """The newest ``limit`` events made at ``since`` or later and before ``until`` (either
    open when None), leaving out the types ``leave_out``, oldest first. (page, whether
    older ones of that stretch were left out). Read newest first off the (ticket_id, id)
    index, so the page costs at most this ticket's events, never the table's."""
    query = select(Event).where(Event.ticket_id == ticket.id)
    if not include_internal:
        query = query.where(Event.internal == false())
    if since is not None:
        query = query.where(Event.created_at >= since)
    if until is not None:
        query = query.where(Event.created_at < until)
    if leave_out:
        query = query.where(Event.type.not_in(list(leave_out)))
    newest_first = query.order_by(Event.id.desc()).limit(limit + 1)
    rows = list((await session.scalars(newest_first)).unique())
    return rows[:limit][::-1], len(rows) > limit
