"""Per-user rate limits, counted on the data itself.

A limit is a count of the user's own recent tickets (or comments) in the database, so it
holds across processes and restarts with nothing else to run. The user's row is locked
first (PostgreSQL), so two concurrent requests cannot both slip under the limit; SQLite
writers are serialised already.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import User
from helpwire.db.base import utcnow
from helpwire.problems import RateLimited
from helpwire.tickets.models import Comment, Ticket


async def _lock_user(session: AsyncSession, user: User) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(select(User.id).where(User.id == user.id).with_for_update())


def _retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return int(window.total_seconds())
    return max(1, int((oldest + window - now).total_seconds()) + 1)


async def enforce_ticket_rate(
    session: AsyncSession, *, user: User, limit: int, window: timedelta, via: str | None = None
) -> None:
    """Refuse (429 with Retry-After) a ticket that would be the user's limit+1-th within
    the sliding window; ``via`` counts only tickets filed through that face."""
    await _lock_user(session, user)
    now = utcnow()
    query = select(Ticket.created_at).where(
        Ticket.requester_id == user.id, Ticket.created_at > now - window
    )
    if via is not None:
        query = query.where(Ticket.via == via)
    recent = sorted((await session.scalars(query)).all())
    if len(recent) >= limit:
        seconds = _retry_after(recent[-limit], window, now)
        raise RateLimited(
            f"at most {limit} tickets per {int(window.total_seconds())} s; try again in "
            f"{seconds} s",
            headers={"Retry-After": str(seconds)},
            retry_after=seconds,
        )


async def enforce_comment_rate(
    session: AsyncSession, *, user: User, limit: int, window: timedelta
) -> None:
    await _lock_user(session, user)
    now = utcnow()
    recent = sorted(
        (
            await session.scalars(
                select(Comment.created_at).where(
                    Comment.author_id == user.id, Comment.created_at > now - window
                )
            )
        ).all()
    )
    if len(recent) >= limit:
        seconds = _retry_after(recent[-limit], window, now)
        raise RateLimited(
            f"at most {limit} comments per {int(window.total_seconds())} s; try again in "
            f"{seconds} s",
            headers={"Retry-After": str(seconds)},
            retry_after=seconds,
        )


async def count_tickets_since(session: AsyncSession, *, user: User, since: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count(Ticket.id)).where(
                Ticket.requester_id == user.id, Ticket.created_at > since
            )
        )
        or 0
    )
