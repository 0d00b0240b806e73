"""One change to many tickets: each ticket is changed in a savepoint of its own, through the
same services a single change uses (so each records its own events, and triggers, SLA
clocks and notifications follow as they would), and a ticket that refuses is left exactly
as it was while the others go on. The caller hears of every ticket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import STAFF_ROLES, User
from helpwire.bulk.schemas import MAX_BULK_TICKETS, BulkChange
from helpwire.groups.service import resolve_group
from helpwire.mail.config import MailConfig
from helpwire.problems import Forbidden, NotFound, Problem, ValidationProblem
from helpwire.rules import macros
from helpwire.tickets import service as tickets
from helpwire.tickets.filter_spec import TicketFilter
from helpwire.tickets.listing import list_tickets
from helpwire.tickets.schemas import TicketUpdate

# The members of a change that are a ticket's own fields, changed as PATCH changes them.
_FIELDS = ("status", "priority", "assignee", "group")


@dataclass(frozen=True)
class TicketResult:
    """One ticket's outcome: None when changed, else the problem that refused it."""

    number: int
    problem: Problem | None


async def change_tickets(
    session: AsyncSession,
    *,
    actor: Actor,
    numbers: Sequence[int] | None,
    ticket_filter: TicketFilter | None,
    change: BulkChange,
    mail: MailConfig | None = None,
) -> list[TicketResult]:
    """Make ``change`` to the tickets named by ``numbers`` or matching ``ticket_filter``
    (exactly one of them), each ticket all or nothing, in the caller's transaction."""
    if not actor.is_staff:
        raise Forbidden("bulk changes are for agents and admins")
    await _check_change(session, actor=actor, change=change)
    targets = await _targets(session, actor=actor, numbers=numbers, ticket_filter=ticket_filter)
    results = []
    for number in targets:
        try:
            async with session.begin_nested():
                await _change_one(session, actor=actor, number=number, change=change, mail=mail)
        except Problem as refused:
            results.append(TicketResult(number, refused))
        else:
            results.append(TicketResult(number, None))
    return results


async def _check_change(session: AsyncSession, *, actor: Actor, change: BulkChange) -> None:
    """What is wrong with the change itself is one 422 for the request, not a refusal
    repeated for every ticket."""
    given = {
        name
        for name in change.model_fields_set
        if name not in ("add_tags", "remove_tags") or getattr(change, name)
    }
    if not given:
        raise ValidationProblem.for_field("change", "name at least one change", "empty")
    both = set(change.add_tags) & set(change.remove_tags)
    if both:
        raise ValidationProblem.for_field(
            "change.remove_tags", "also added: " + ", ".join(sorted(both)), "conflict"
        )
    if change.assignee is not None:
        user = await session.scalar(select(User).where(User.username == change.assignee))
        if user is None or not user.is_active or user.role not in STAFF_ROLES:
            raise ValidationProblem.for_field(
                "change.assignee", f"no active agent or admin {change.assignee!r}"
            )
    await resolve_group(session, key=change.group, field="change.group")
    if change.macro is not None:
        try:
            await macros.get_macro(session, actor=actor, macro_id=change.macro)
        except NotFound:
            raise ValidationProblem.for_field(
                "change.macro", f"no macro {change.macro}", "unknown_macro"
            ) from None


async def _targets(
    session: AsyncSession,
    *,
    actor: Actor,
    numbers: Sequence[int] | None,
    ticket_filter: TicketFilter | None,
) -> list[int]:
    if (numbers is None) == (ticket_filter is None):
        raise ValidationProblem.for_field("tickets", "give either tickets or filter", "one_of")
    if numbers is not None:
        if len(numbers) > MAX_BULK_TICKETS:
            raise ValidationProblem.for_field("tickets", f"at most {MAX_BULK_TICKETS} tickets")
        return list(dict.fromkeys(numbers))
    assert ticket_filter is not None
    filters = ticket_filter.filters()
    found, more = await list_tickets(session, actor=actor, filters=filters, limit=MAX_BULK_TICKETS)
    if more is not None:
        raise ValidationProblem.for_field(
            "filter",
            f"matches more than {MAX_BULK_TICKETS} tickets; narrow it, or change them in parts",
            "too_many",
        )
    return [ticket.number for ticket in found]


async def _change_one(
    session: AsyncSession, *, actor: Actor, number: int, change: BulkChange, mail: MailConfig | None
) -> None:
    ticket = await tickets.get_ticket(session, actor=actor, number=number, for_update=True)
    values: dict[str, Any] = {
        name: getattr(change, name) for name in _FIELDS if name in change.model_fields_set
    }
    if change.add_tags or change.remove_tags:
        tags = (set(ticket.tags) | set(change.add_tags)) - set(change.remove_tags)
        values["tags"] = sorted(tags)
    if values:
        await tickets.update_ticket(
            session, actor=actor, number=number, changes=TicketUpdate(**values)
        )
    if change.macro is not None:
        await macros.apply_macro(
            session, actor=actor, number=number, macro_id=change.macro, preview=False, mail=mail
        )
