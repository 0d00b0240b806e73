"""Changing a ticket's priority, from the customer side as well as from staff.

The native PATCH leaves priority to staff. Some products let the customer side raise or
lower the priority of its own ticket (F5 Distributed Cloud's Priority call), so the rule
lives here, once, for every face:
- a closed ticket keeps its priority (reopen it first);
- on the customer side only the requester and account-wide users may change it, as for
  every other decision about the ticket (see visibility.may_speak_for_ticket);
- the customer side does not set ``urgent`` directly: it escalates, which also marks the
  ticket escalated and tells support (service.escalate_ticket).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.problems import Forbidden, IllegalTransition
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.models import Priority, Status, Ticket
from helpwire.tickets.service import get_ticket
from helpwire.tickets.visibility import may_speak_for_ticket


async def change_priority(
    session: AsyncSession, *, actor: Actor, number: int, priority: Priority
) -> Ticket:
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(
            "the ticket is closed; reopen it to change its priority", current_status="closed"
        )
    if not actor.is_staff:
        if not may_speak_for_ticket(actor, ticket):
            raise Forbidden("only the requester or an account-wide user changes its priority")
        if priority == Priority.URGENT and ticket.priority != Priority.URGENT:
            raise Forbidden("the customer side makes a ticket urgent by escalating it")
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
