"""A ticket's custom field values as its changes touch them: checked by the fields
domain, stored with the ticket, and recorded in its timeline. Values of fields shown to
customers go into the change's own event; those of staff-only fields into an internal one,
so that the customer side's timeline never shows them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.fields import service as fields
from helpwire.problems import Forbidden
from helpwire.tickets.events import EventType, record
from helpwire.tickets.models import Ticket
from helpwire.tickets.schemas import TicketCreate, TicketUpdate
from helpwire.tickets.visibility import may_speak_for_ticket

# A field's change in an event's "changes": under "fields.<key>", beside the ticket's own.
CHANGE_PREFIX = "fields."


@dataclass(frozen=True)
class FieldEdits:
    """What a change did to the values: the customer-visible part and the staff-only."""

    shown: dict[str, dict[str, Any]] = field(default_factory=dict)
    staff_only: dict[str, dict[str, Any]] = field(default_factory=dict)


def _edits(planned: fields.Planned) -> FieldEdits:
    edits = FieldEdits()
    for change in planned.changes:
        part = edits.shown if change.visible_to_customers else edits.staff_only
        part[CHANGE_PREFIX + change.key] = {"before": change.before, "after": change.after}
    return edits


async def check_new(
    session: AsyncSession, *, actor: Actor, new: TicketCreate, topic_id: int | None
) -> fields.Planned:
    """The values of a ticket being filed, from ``fields`` and its attributes, checked
    before it takes a number."""
    defined = await fields.all_fields(session)
    if not defined:
        return fields.Planned([], [])
    given = fields.given_values(defined, explicit=new.fields, attributes=new.attributes)
    return await fields.plan_values(
        session,
        ticket_id=None,
        topic_id=topic_id,
        given=given,
        staff=actor.is_staff,
        fields=defined,
    )


async def store_new(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, planned: fields.Planned
) -> dict[str, Any]:
    """Store a new ticket's values; the customer-visible ones are returned for the
    ``ticket.created`` event, the staff-only ones get an internal event of their own."""
    if not planned.changes:
        return {}
    await fields.store_values(session, ticket_id=ticket.id, planned=planned, is_new=True)
    edits = _edits(planned)
    await record_staff_only(session, actor=actor, ticket=ticket, edits=edits)
    return {key.removeprefix(CHANGE_PREFIX): c["after"] for key, c in edits.shown.items()}


async def apply_changes(
    session: AsyncSession,
    *,
    actor: Actor,
    ticket: Ticket,
    changes: TicketUpdate,
    topic_changed: bool,
) -> FieldEdits:
    """A PATCH's ``fields`` (and its ``attributes`` named like fields), and the fields the
    ticket's new topic requires."""
    given = changes.model_fields_set
    if "fields" not in given and "attributes" not in given and not topic_changed:
        return FieldEdits()
    if "fields" in given and not actor.is_staff and not may_speak_for_ticket(actor, ticket):
        raise Forbidden("only the requester or an account-wide user changes its fields")
    defined = await fields.all_fields(session)
    if not defined:
        return FieldEdits()
    values = fields.given_values(
        defined,
        explicit=changes.fields,
        attributes=changes.attributes if "attributes" in given else None,
    )
    planned = await fields.plan_values(
        session,
        ticket_id=ticket.id,
        topic_id=ticket.topic_id,
        given=values,
        staff=actor.is_staff,
        topic_changed=topic_changed,
        fields=defined,
    )
    await fields.store_values(session, ticket_id=ticket.id, planned=planned, is_new=False)
    return _edits(planned)


async def record_staff_only(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, edits: FieldEdits
) -> None:
    if edits.staff_only:
        await record(
            session,
            ticket=ticket,
            actor=actor.user,
            type=EventType.TICKET_UPDATED,
            data={"changes": edits.staff_only},
            internal=True,
        )


async def values_for(
    session: AsyncSession, *, ticket_ids: list[int], staff: bool
) -> Mapping[int, dict[str, Any]]:
    """The values answers show, for a page of tickets in one query."""
    return await fields.current_values(session, ticket_ids=ticket_ids, staff=staff)
