"""The staff who follow a ticket: it is in their "Following" queue, and the channels whose
``followers`` filter names them hear of its every change (notify.outbox).

Following is staff work, like the queues: customers neither see nor change the list. Any
agent or admin follows and unfollows a ticket for themselves or for another member of
staff. A change of the list is an internal event in the ticket's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import User
from helpwire.db.base import utcnow
from helpwire.problems import Forbidden, ValidationProblem
from helpwire.tickets.events import EventType, record
from helpwire.tickets.models import Ticket, TicketFollower

MAX_FOLLOWERS = 100


def check_may_see(actor: Actor) -> None:
    """Refuses customers, before any ticket is looked up: the same answer for every
    ticket number, seen or not."""
    if not actor.is_staff:
        raise Forbidden("only agents and admins see and change who follows a ticket")


async def followers_of(session: AsyncSession, *, ticket: Ticket) -> list[TicketFollower]:
    """A ticket's followers, in the order they began following."""
    rows = await session.scalars(
        select(TicketFollower)
        .where(TicketFollower.ticket_id == ticket.id)
        .order_by(TicketFollower.created_at, TicketFollower.user_id)
    )
    return list(rows.unique())


async def follower_usernames(session: AsyncSession, *, ticket_id: int) -> set[str]:
    rows = await session.scalars(
        select(User.username)
        .join(TicketFollower, TicketFollower.user_id == User.id)
        .where(TicketFollower.ticket_id == ticket_id)
    )
    return set(rows)


async def _staff_member(session: AsyncSession, *, actor: Actor, username: str | None) -> User:
    if username is None or username == actor.user.username:
        return actor.user
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise ValidationProblem.for_field(
            "username", f"no active user {username!r}", "unknown_user"
        )
    if not user.is_staff:
        raise ValidationProblem.for_field(
            "username",
            f"{username!r} is not an agent or admin: only staff follow tickets",
            "not_staff",
        )
    return user


async def follow(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, username: str | None = None
) -> tuple[TicketFollower, bool]:
    """``username`` (the actor when None) follows the ticket; whether that is new
    (following twice changes nothing)."""
    check_may_see(actor)
    user = await _staff_member(session, actor=actor, username=username)
    rows = await followers_of(session, ticket=ticket)
    for row in rows:
        if row.user_id == user.id:
            return row, False
    if len(rows) >= MAX_FOLLOWERS:
        raise ValidationProblem.for_field(
            "username", f"a ticket has at most {MAX_FOLLOWERS} followers", "too_many"
        )
    row = TicketFollower(
        ticket_id=ticket.id, user_id=user.id, added_by_id=actor.user.id, created_at=utcnow()
    )
    row.user, row.added_by = user, actor.user
    session.add(row)
    before = [r.user.username for r in rows]
    await _record_change(session, actor, ticket, before, [*before, user.username])
    await session.flush()
    return row, True


async def unfollow(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, username: str | None = None
) -> bool:
    """``username`` (the actor when None) no longer follows the ticket; whether they did."""
    check_may_see(actor)
    rows = await followers_of(session, ticket=ticket)
    wanted = username or actor.user.username
    row = next((r for r in rows if r.user.username == wanted), None)
    if row is None:
        return False  # not following: as asked, and nothing changed to record
    await session.delete(row)
    before = [r.user.username for r in rows]
    await _record_change(session, actor, ticket, before, [u for u in before if u != wanted])
    await session.flush()
    return True


async def _record_change(
    session: AsyncSession, actor: Actor, ticket: Ticket, before: list[str], after: list[str]
) -> None:
    # Internal, and the ticket's version is left alone: the customer side sees nothing
    # of who at support follows it, not even a changed ETag.
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.TICKET_UPDATED,
        internal=True,
        data={"changes": {"followers": {"before": before, "after": after}}},
    )


async def copy_followers(session: AsyncSession, *, from_ticket: Ticket, to_ticket: Ticket) -> None:
    """Who followed ``from_ticket`` follows ``to_ticket`` too (a merge's target, a split's
    new ticket): they keep hearing of the conversation they followed."""
    have = {r.user_id for r in await followers_of(session, ticket=to_ticket)}
    now = utcnow()
    for row in await followers_of(session, ticket=from_ticket):
        if row.user_id not in have:
            session.add(
                TicketFollower(
                    ticket_id=to_ticket.id,
                    user_id=row.user_id,
                    added_by_id=row.added_by_id,
                    created_at=now,
                )
            )
    await session.flush()


def usernames(rows: Sequence[TicketFollower]) -> list[str]:
    return [row.user.username for row in rows]
