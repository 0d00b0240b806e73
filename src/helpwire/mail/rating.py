"""Rating a solved ticket from the links in its mail: one click records a score as the
requester, with no sign-in. The link is signed for the requester and the ticket
(mail.tokens), so it rates nothing else; following another of the links changes the score,
as the portal allows until the ticket is closed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import load_actor
from helpwire.accounts.models import User
from helpwire.db.secrets import box_for
from helpwire.mail.tokens import rating_signature_matches
from helpwire.problems import Forbidden, NotFound
from helpwire.tickets.models import Ticket
from helpwire.tickets.service import rate_ticket


async def rate_by_link(
    session: AsyncSession, *, number: int, score: int, user_id: int, signature: str
) -> Ticket:
    """The ticket rated ``score`` as the link's requester. A link that does not check is
    answered like a ticket that does not exist."""
    ticket = await session.scalar(select(Ticket).where(Ticket.number == number))
    box = box_for(session.get_bind().dialect)
    if (
        ticket is None
        or ticket.requester_id != user_id
        or not rating_signature_matches(box, signature, uid=ticket.uid, user_id=user_id)
    ):
        raise NotFound("this rating link is not valid (copy the whole link from the mail)")
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        raise Forbidden("this account is disabled")
    actor = await load_actor(session, user=user)
    return await rate_ticket(session, actor=actor, number=number, score=score)
