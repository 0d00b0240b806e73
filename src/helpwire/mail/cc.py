"""A ticket's CC addresses: people who hear of its public conversation besides the
requester. Staff add and remove them; everyone who sees the ticket sees the list (the
addresses are in every message's Cc header anyway)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.db.base import utcnow
from helpwire.mail.addresses import normalize_address
from helpwire.mail.models import TicketCc
from helpwire.problems import Forbidden, ValidationProblem
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.models import Event, Ticket
from helpwire.tickets.service import get_ticket

MAX_CC = 50


async def _rows(session: AsyncSession, ticket: Ticket) -> Sequence[TicketCc]:
    query = select(TicketCc).where(TicketCc.ticket_id == ticket.id).order_by(TicketCc.id)
    return (await session.scalars(query)).all()


async def list_cc(session: AsyncSession, *, actor: Actor, number: int) -> Sequence[TicketCc]:
    ticket = await get_ticket(session, actor=actor, number=number)
    return await _rows(session, ticket)


async def cc_of(session: AsyncSession, *, ticket: Ticket) -> list[str]:
    """The addresses of a ticket the caller has read (and so may see)."""
    return [row.address for row in await _rows(session, ticket)]


def _check_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("only staff change a ticket's CC addresses")


async def add_cc(
    session: AsyncSession, *, actor: Actor, number: int, address: str
) -> tuple[TicketCc, bool]:
    """The CC row for ``address`` and whether it is new (adding one twice changes nothing)."""
    _check_staff(actor)
    try:
        normalized = normalize_address(address)
    except ValueError as exc:
        raise ValidationProblem.for_field("address", str(exc)) from None
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    rows = await _rows(session, ticket)
    for row in rows:
        if row.address == normalized:
            return row, False
    if len(rows) >= MAX_CC:
        raise ValidationProblem.for_field("address", f"a ticket has at most {MAX_CC} CC addresses")
    row = TicketCc(
        ticket_id=ticket.id, address=normalized, added_by_id=actor.user.id, created_at=utcnow()
    )
    session.add(row)
    await _record_change(session, actor, ticket, [r.address for r in rows], normalized, None)
    await session.flush()
    return row, True


async def remove_cc(session: AsyncSession, *, actor: Actor, number: int, address: str) -> None:
    """Removing an address that is not there changes nothing, like removing it twice."""
    _check_staff(actor)
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    rows = await _rows(session, ticket)
    wanted = address.strip().lower()
    row = next((r for r in rows if r.address == wanted), None)
    if row is None:
        return  # not there: as asked, and nothing changed to record
    await session.delete(row)
    await _record_change(session, actor, ticket, [r.address for r in rows], None, wanted)
    await session.flush()


async def _record_change(
    session: AsyncSession,
    actor: Actor,
    ticket: Ticket,
    before: list[str],
    added: str | None,
    removed: str | None,
) -> None:
    after = [a for a in before if a != removed] + ([added] if added else [])
    await record_cc_change(session, actor, ticket, before, after)


async def record_cc_change(
    session: AsyncSession, actor: Actor, ticket: Ticket, before: list[str], after: list[str]
) -> None:
    """A change of the CC list in the ticket's timeline (ticket.updated)."""
    touch(ticket)
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.TICKET_UPDATED,
        data={"changes": {"cc": {"before": before, "after": after}}},
    )


# The events that hand a ticket's conversation to another ticket (tickets.moving).
CARRIED_BY = (EventType.TICKET_MERGED.value, EventType.TICKET_SPLIT.value)


async def carry_over(session: AsyncSession, *, event: Event, ticket: Ticket) -> None:
    """A subscriber of CARRIED_BY: the addresses copied on a ticket whose conversation went
    to another (merged into it, or split off into it) are copied on that one too, so they
    keep hearing of the conversation; so is a merged ticket's requester, when the target
    is someone else's (they may not see it in the portal). Recorded on the receiving
    ticket as its CC change."""
    into = (event.data or {}).get("into")
    if not isinstance(into, int):
        return  # the receiving ticket's own event
    target = await session.scalar(select(Ticket).where(Ticket.number == into))
    if target is None:
        return
    addresses = [row.address for row in await _rows(session, ticket)]
    addresses += _merged_requester(event, ticket, target)
    if not addresses:
        return
    before = [row.address for row in await _rows(session, target)]
    room = max(MAX_CC - len(before), 0)
    added = [a for a in addresses if a not in before][:room]
    if not added:
        return
    now = utcnow()
    session.add_all(
        TicketCc(ticket_id=target.id, address=a, added_by_id=event.actor_id, created_at=now)
        for a in added
    )
    touch(target)
    await record(
        session,
        ticket=target,
        actor=event.actor,
        type=EventType.TICKET_UPDATED,
        data={"changes": {"cc": {"before": before, "after": [*before, *added]}}},
    )
    await session.flush()


def _merged_requester(event: Event, ticket: Ticket, target: Ticket) -> list[str]:
    requester = ticket.requester
    if event.type != EventType.TICKET_MERGED or requester.id == target.requester_id:
        return []
    if not requester.email or not requester.is_active:
        return []
    try:
        return [normalize_address(requester.email)]
    except ValueError:
        return []  # an address mail could not reach anyway
