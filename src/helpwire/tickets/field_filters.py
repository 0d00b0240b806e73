"""Ticket lists by custom field, on the value table's indexes (fields.models): each index
leads by the field, then the value, then the ticket, and holds only the rows of its type.

- A filter (``field.plan=pro``, ``field.seats=10..20``) is ``tickets.id IN`` the ticket
  ids of one range of one index: the engine reads the matching range once, and then either
  walks the list's own order checking each ticket against it, or looks the few matches up,
  whichever its statistics say is cheaper.
- A sort (``sort=field.seats``) reads one field's rows in the index's order, joined to their
  tickets for the other filters, and stops when the page is full; its keyset is (value,
  ticket id), like every other sort's (sort value, id). Tickets without a value for the
  field are not in such a list, as tickets without a due time are not in one by due time.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select

from helpwire.fields.filters import FieldFilter, FieldSort
from helpwire.fields.models import TicketFieldValue, ValueColumn
from helpwire.tickets.models import Ticket


def value_column(column: ValueColumn) -> ColumnElement[Any]:
    found: ColumnElement[Any] = getattr(TicketFieldValue, column.value).expression
    return found


def field_condition(wanted: FieldFilter) -> ColumnElement[bool]:
    column = value_column(wanted.column)
    # "IS NOT NULL" is the partial index's own condition, given so that both engines see
    # at once that the index holds every row the filter can match.
    rows = select(TicketFieldValue.ticket_id).where(
        TicketFieldValue.field_id == wanted.field_id, column.is_not(None)
    )
    if wanted.equals:
        rows = rows.where(column.in_(wanted.equals))
    if wanted.low is not None:
        rows = rows.where(column >= wanted.low)
    if wanted.high is not None:
        rows = rows.where(column <= wanted.high)
    return Ticket.id.in_(rows)


def sorted_by_field(
    sort: FieldSort,
) -> tuple[Select[tuple[int, Any]], tuple[ColumnElement[Any], ...]]:
    """The ids and sort values of the tickets with a value of the field, and the keys
    (value, ticket id) the list orders and pages by."""
    column = value_column(sort.column)
    query = (
        select(Ticket.id, column)
        .select_from(TicketFieldValue)
        .join(Ticket, Ticket.id == TicketFieldValue.ticket_id)
        .where(TicketFieldValue.field_id == sort.field_id, column.is_not(None))
    )
    return query, (column, TicketFieldValue.ticket_id.expression)


def presence(sort: FieldSort) -> ColumnElement[bool]:
    """The tickets a sort by the field lists (those with a value), for the list's count."""
    return field_condition(FieldFilter(sort.field_id, sort.column))
