"""Presence: a heartbeat says "I am on this ticket's page, viewing (or replying)"; the
others on the page are those whose heartbeat is recent enough.

Several processes serve one installation, so presence lives in a table, not in a process's
memory. A heartbeat upserts its row; nothing has to delete a row for it to stop counting,
because a row older than ``PRESENCE_LIFETIME`` is not read as present (and the heartbeat
of the same ticket sweeps it away). Time is always passed in (``now``), so tests move a
clock rather than wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import User
from helpwire.presence.models import TicketPresence
from helpwire.problems import Forbidden
from helpwire.tickets.models import Comment, Ticket
from helpwire.tickets.service import get_ticket

# Pages beat every few seconds (web/static/app.js); a person counts as present for a few
# missed beats more, so that one slow request does not make them flicker away.
PRESENCE_LIFETIME = timedelta(seconds=30)


class PresenceState(StrEnum):
    VIEWING = "viewing"
    REPLYING = "replying"


@dataclass(frozen=True)
class Present:
    """Someone on the ticket's page, as their last heartbeat said."""

    username: str
    real_name: str
    state: PresenceState
    seen_at: datetime

    @property
    def name(self) -> str:
        return self.real_name or self.username


@dataclass(frozen=True)
class Written:
    """A comment, as much of it as a presence answer tells: whose, and whether a note."""

    id: int
    username: str
    real_name: str
    internal: bool
    created_at: datetime

    @property
    def name(self) -> str:
        return self.real_name or self.username


@dataclass(frozen=True)
class OnTicket:
    """A ticket's presence: the others on its page and its newest comment."""

    others: list[Present]
    newest_comment: Written | None


def _staff_only(actor: Actor) -> None:
    # Refused before the ticket is looked at: a customer learns nothing of a ticket here.
    if not actor.is_staff:
        raise Forbidden("presence is for agents")


async def heartbeat(
    session: AsyncSession, *, actor: Actor, number: int, state: PresenceState, now: datetime
) -> OnTicket:
    """Record that the actor is on ticket ``number``'s page in ``state`` as of ``now``,
    and answer who else is there."""
    _staff_only(actor)
    ticket = await get_ticket(session, actor=actor, number=number)
    insert = postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    table = TicketPresence.__table__
    statement = (
        insert(TicketPresence)
        .values(ticket_id=ticket.id, user_id=actor.user.id, state=str(state), seen_at=now)
        .on_conflict_do_update(
            index_elements=[table.c.ticket_id, table.c.user_id],
            set_={"state": str(state), "seen_at": now},
        )
    )
    await session.execute(statement)
    await session.execute(
        delete(TicketPresence).where(
            TicketPresence.ticket_id == ticket.id,
            TicketPresence.seen_at < now - PRESENCE_LIFETIME,
        )
    )
    return await _on_ticket(session, actor=actor, ticket=ticket, now=now)


async def presence_on(
    session: AsyncSession, *, actor: Actor, number: int, now: datetime
) -> OnTicket:
    """Who else is on ticket ``number``'s page as of ``now``, without counting the actor."""
    _staff_only(actor)
    ticket = await get_ticket(session, actor=actor, number=number)
    return await _on_ticket(session, actor=actor, ticket=ticket, now=now)


async def leave(session: AsyncSession, *, actor: Actor, number: int) -> None:
    """The actor left ticket ``number``'s page (closed it, went elsewhere)."""
    _staff_only(actor)
    ticket = await get_ticket(session, actor=actor, number=number)
    await session.execute(
        delete(TicketPresence).where(
            TicketPresence.ticket_id == ticket.id, TicketPresence.user_id == actor.user.id
        )
    )


async def forget_expired(session: AsyncSession, *, now: datetime) -> int:
    """Remove the rows of pages closed long ago (housekeeping; they count for nothing)."""
    result = await session.execute(
        delete(TicketPresence).where(TicketPresence.seen_at < now - PRESENCE_LIFETIME)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _on_ticket(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, now: datetime
) -> OnTicket:
    rows = await session.execute(
        select(User.username, User.real_name, TicketPresence.state, TicketPresence.seen_at)
        .join(User, User.id == TicketPresence.user_id)
        .where(
            TicketPresence.ticket_id == ticket.id,
            TicketPresence.user_id != actor.user.id,
            TicketPresence.seen_at >= now - PRESENCE_LIFETIME,
        )
        .order_by(User.username)
    )
    others = [
        Present(username, real_name, PresenceState(state), seen_at)
        for username, real_name, state, seen_at in rows
    ]
    newest = await written_since(session, ticket=ticket, after_id=None, limit=1)
    return OnTicket(others=others, newest_comment=newest[0] if newest else None)


async def written_since(
    session: AsyncSession,
    *,
    ticket: Ticket,
    after_id: int | None,
    other_than: User | None = None,
    limit: int = 20,
) -> Sequence[Written]:
    """The ticket's comments after comment ``after_id`` (all of them for None), newest
    first, leaving out those ``other_than`` wrote. Staff see notes too, so every comment
    counts: an agent about to reply should know of a colleague's note as well."""
    query = (
        select(Comment.id, User.username, User.real_name, Comment.internal, Comment.created_at)
        .join(User, User.id == Comment.author_id)
        .where(Comment.ticket_id == ticket.id)
        .order_by(Comment.id.desc())
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(Comment.id > after_id)
    if other_than is not None:
        query = query.where(Comment.author_id != other_than.id)
    rows = await session.execute(query)
    return [Written(*row) for row in rows]


async def replied_meanwhile(
    session: AsyncSession, *, actor: Actor, number: int, seen_comment_id: int
) -> Sequence[Written]:
    """The comments others wrote on ticket ``number`` after the newest one the actor had
    seen (``seen_comment_id``, 0 for none): what an agent about to send should read
    first."""
    _staff_only(actor)
    ticket = await get_ticket(session, actor=actor, number=number)
    return await written_since(
        session, ticket=ticket, after_id=seen_comment_id, other_than=actor.user
    )


async def newest_comment_id(session: AsyncSession, *, ticket: Ticket) -> int:
    """The id of the ticket's newest comment (0 when it has none): what a reply form
    carries as the newest it has seen."""
    newest = await written_since(session, ticket=ticket, after_id=None, limit=1)
    return newest[0].id if newest else 0
