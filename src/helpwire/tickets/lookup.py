"""Finding tickets by what other systems call them, and the tickets that follow up on one.

Some clients address a ticket by its reference in a third-party system (``tp_id``) rather
than by its number; when no visible ticket carries that reference, a reference made of
digits names the ticket with that number (helpwire being the third party then). Both
lookups see only what the actor may see: another account's ticket is not found, exactly
like one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.problems import NotFound
from helpwire.tickets.models import Ticket
from helpwire.tickets.visibility import visible_clause
from helpwire.types import MAX_INT64

MAX_REFERENCE_CHARS = 255


async def number_for_reference(session: AsyncSession, *, actor: Actor, reference: str) -> int:
    """The number of the ticket ``reference`` names: the newest visible ticket whose
    ``tp_id`` it is, else the ticket whose number it is. NotFound otherwise."""
    visible = visible_clause(actor.user, user_project_ids=set(actor.project_ids))
    if 0 < len(reference) <= MAX_REFERENCE_CHARS:
        number = await session.scalar(
            select(Ticket.number)
            .where(Ticket.tp_id == reference, visible)
            .order_by(Ticket.created_at.desc(), Ticket.id.desc())
            .limit(1)
        )
        if number is not None:
            return int(number)
    if reference.isascii() and reference.isdigit() and 0 < int(reference) <= MAX_INT64:
        number = await session.scalar(
            select(Ticket.number).where(Ticket.number == int(reference), visible)
        )
        if number is not None:
            return int(number)
    raise NotFound(f"no ticket {reference!r}")


async def follow_ups(session: AsyncSession, *, actor: Actor, ticket: Ticket) -> list[Ticket]:
    """The visible tickets filed as follow-ups of ``ticket``, oldest first."""
    rows = await session.scalars(
        select(Ticket)
        .where(
            Ticket.follow_up_of_id == ticket.id,
            visible_clause(actor.user, user_project_ids=set(actor.project_ids)),
        )
        .order_by(Ticket.id)
    )
    return list(rows.unique())
