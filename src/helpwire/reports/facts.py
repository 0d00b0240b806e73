"""Keeping each ticket's facts current: a subscriber that rewrites the ticket's row from
its state after every event that can change what a report shows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.reports.aggregates import apply_change, contributions
from helpwire.reports.models import TicketFact
from helpwire.sla.clocks import DONE, Clock
from helpwire.sla.models import TicketSla
from helpwire.tickets.events import EventType
from helpwire.tickets.models import Event, Status, Ticket

EVENT_TYPES = (
    EventType.TICKET_CREATED.value,
    EventType.TICKET_UPDATED.value,
    EventType.TICKET_ASSIGNED.value,
    EventType.TICKET_STATUS_CHANGED.value,
    EventType.TICKET_RATED.value,
    EventType.COMMENT_CREATED.value,
    EventType.SLA_BREACHED.value,
)


async def subscriber(session: AsyncSession, *, event: Event, ticket: Any) -> None:
    """Registered after the SLA clocks', so that their state is this event's."""
    fact = await session.get(TicketFact, ticket.id)
    before = contributions(fact)
    if fact is None:
        fact = TicketFact(ticket_id=ticket.id, created_at=ticket.created_at)
        session.add(fact)
    clocks = await _clocks(session, ticket.id)
    _place(fact, ticket)
    _first_reply(fact, ticket, event, clocks)
    _resolution(fact, ticket, clocks)
    _service_level(fact, clocks, await session.get(TicketSla, ticket.id), solved=fact.solved_at)
    await apply_change(session, before, contributions(fact))


async def _clocks(session: AsyncSession, ticket_id: int) -> dict[str, Clock]:
    row = await session.get(TicketSla, ticket_id)
    if row is None:
        return {}
    return {target: Clock.from_json(data) for target, data in (row.clocks or {}).items()}


def _place(fact: TicketFact, ticket: Ticket) -> None:
    fact.assignee_id = ticket.assignee_id
    fact.group_id = ticket.group_id
    fact.topic_id = ticket.topic_id
    fact.account_id = ticket.account_id
    fact.rating_score = ticket.rating_score
    fact.rated_at = ticket.rated_at


def _first_reply(fact: TicketFact, ticket: Ticket, event: Event, clocks: dict[str, Clock]) -> None:
    if fact.first_reply_at is not None or event.type != EventType.COMMENT_CREATED.value:
        return
    if event.internal or event.actor is None or not event.actor.is_staff:
        return
    fact.first_reply_at = event.created_at
    clock = clocks.get("first_reply")
    if clock is not None and clock.state == DONE:
        fact.first_reply_seconds = clock.consumed
    else:
        fact.first_reply_seconds = _seconds(ticket.created_at, event.created_at)


def _resolution(fact: TicketFact, ticket: Ticket, clocks: dict[str, Clock]) -> None:
    solved = ticket.status in (Status.SOLVED.value, Status.CLOSED.value)
    if not solved or ticket.solved_at is None:
        fact.solved_at, fact.resolution_seconds = None, None
        return
    if fact.solved_at == ticket.solved_at:
        return
    fact.solved_at = ticket.solved_at
    clock = clocks.get("resolution")
    if clock is not None:
        fact.resolution_seconds = clock.consumed
    else:
        fact.resolution_seconds = _seconds(ticket.created_at, ticket.solved_at)


def _service_level(
    fact: TicketFact, clocks: dict[str, Clock], row: TicketSla | None, *, solved: datetime | None
) -> None:
    breached = {b.get("target") for b in (row.breaches if row is not None else [])}
    for target, column in (
        ("first_reply", "sla_first_reply_met"),
        ("next_reply", "sla_next_reply_met"),
        ("resolution", "sla_resolution_met"),
    ):
        # Met once its clock ended in time; undecided (None) while it runs or waits.
        # (Solving stops the resolution clock until a reopening: met once solved in time.)
        clock = clocks.get(target)
        ended = clock is not None and (
            clock.state == DONE or (target == "resolution" and solved is not None)
        )
        if target in breached:
            setattr(fact, column, False)
        elif ended:
            setattr(fact, column, True)
        else:
            setattr(fact, column, None)


def _seconds(start: datetime, end: datetime) -> float:
    return max(0.0, (end - start).total_seconds())
