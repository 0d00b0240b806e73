"""Ticket lists by custom field, on the value table's indexes (fields.models): each index
leads by the field, then the value, then the ticket, and holds only the rows of its type.

- A filter (``field.plan=pro``, ``field.seats=10..20``) matching few tickets (at most
  fields.filters.FEW_MATCHES, probed when the filter is read) is ``tickets.id IN`` its
  matches: the engine reads them from one index range and looks each ticket up. One
  matching many is checked ticket by ticket (``EXISTS``, one index look-up each) as the
  list walks its own order, and stops when the page is full. At a million tickets on
  SQLite, ``IN`` a value on 200,000 tickets collected and sorted them all (1.1 s for a
  page), ``EXISTS`` took 0.1 ms; ``EXISTS`` a value on 100 tickets walked the whole table.
- A count of a list that only fields narrow reads the matching rows of one such filter
  (joined to their tickets for the others) and stops at its cap, as a count by tag reads
  the tag's rows: checking each ticket of a million walks them all when the matches are
  fewer than the cap, and SQLite collected all of an ``IN``'s matches before counting
  (12 s for a field every ticket has). With other filters too, the count walks the
  tickets they select and checks each (tickets.listing._count_driver).
- A sort (``sort=field.seats``) reads one field's rows in the index's order, joined to their
  tickets for the other filters, and stops when the page is full; its keyset is (value,
  ticket id), like every other sort's (sort value, id). Tickets without a value for the
  field are not in such a list, as tickets without a due time are not in one by due time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, literal, select

from helpwire.fields.filters import FieldFilter, FieldSort, value_conditions
from helpwire.fields.models import TicketFieldValue, ValueColumn
from helpwire.tickets.models import Ticket


def value_column(column: ValueColumn) -> ColumnElement[Any]:
    found: ColumnElement[Any] = getattr(TicketFieldValue, column.value).expression
    return found


def field_condition(wanted: FieldFilter) -> ColumnElement[bool]:
    # Correlated to the tickets alone: a list or count that reads value rows itself (a
    # field's sort, a count by a field) must not make this subquery's rows its own.
    if wanted.many:
        rows = select(TicketFieldValue.ticket_id).where(
            TicketFieldValue.ticket_id == Ticket.id, *value_conditions(wanted, per_ticket=True)
        )
        return exists(rows.correlate(Ticket))
    matching = select(TicketFieldValue.ticket_id).where(*value_conditions(wanted))
    return Ticket.id.in_(matching.correlate(None))


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


def count_driver(filters: Sequence[FieldFilter], sort: FieldSort | None) -> FieldFilter | None:
    """The filter whose rows a count reads, if any: by a field's sort, its presence; else
    a filter matching many tickets, when every field filter does (one matching few is
    counted from its matches already), and no ticket has two of its rows."""
    if sort is not None:
        return presence(sort)
    if not filters or not all(f.many for f in filters):
        return None
    return next((f for f in filters if f.row_per_ticket), None)


def presence(sort: FieldSort) -> FieldFilter:
    """The tickets a sort by the field lists: those with a value of it."""
    # Checked by the ticket's own row on both engines: given "has a value" as such,
    # PostgreSQL took 548 ms to count the open tickets with a value of a field every
    # ticket has, at a million tickets; checked ticket by ticket, 26 ms.
    return FieldFilter(sort.field_id, sort.column, many=True, check_by_ticket_index=True)


def counted_rows(driver: FieldFilter) -> Select[tuple[int]]:
    """A count's rows: the driver's matching rows, joined to their tickets."""
    return (
        select(literal(1))
        .select_from(TicketFieldValue)
        .join(Ticket, Ticket.id == TicketFieldValue.ticket_id)
        .where(*value_conditions(driver))
    )
