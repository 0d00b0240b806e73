"""Changing a ticket's priority alone (F5 Distributed Cloud's Priority call).

A closed ticket keeps its priority, whoever asks; the customer side follows the one rule of
the native PATCH too (service.check_customer_priority).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.problems import IllegalTransition
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.models import Priority, Status, Ticket
from helpwire.tickets.service import check_customer_priority, get_ticket


async def change_priority(
    session: AsyncSession, *, actor: Actor, number: int, priority: Priority
) -> Ticket:
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(
            "the ticket is closed; reopen it to change its priority", current_status="closed"
        )
    check_customer_priority(actor, ticket, priority)
    before = ticket.priority
    if before == priority.value:
        return ticket
    ticket.priority = priority.value
    touch(ticket)
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.TICKET_UPDATED,
        data={"changes": {"priority": {"before": before, "after": priority.value}}},
    )
    await session.flush()
    return ticket
