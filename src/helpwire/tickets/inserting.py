"""A new ticket written with one INSERT instead of the unit of work's flush.

The ORM's flush of a new ticket sorts and cascades through a dozen relationships to send
one INSERT. Here the row goes in as a Core INSERT ... RETURNING (only what the database or
a column's default fills in comes back), its tags and projects as one INSERT each, and the
object, whose relationships the caller set by hand, joins the session as if it had been
loaded: later changes to it in the same transaction are flushed as usual. Measured in
process on PostgreSQL, three runs each way: 0.3 ms less CPU of a 4.6 ms create.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, insert, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from helpwire.tickets.models import Ticket, TicketProject, TicketTag

_COLUMNS = list(inspect(Ticket).column_attrs)
# Every relationship must be set by the caller: one left unset would be loaded lazily on
# first use, which async sessions cannot do.
_RELATIONSHIPS = frozenset(rel.key for rel in inspect(Ticket).relationships)
_TICKETS = cast(Table, Ticket.__table__)


async def insert_ticket(session: AsyncSession, ticket: Ticket) -> None:
    """Insert ``ticket`` (new, never added to a session) with its tags and projects, and
    make it part of ``session`` as a loaded, unchanged object."""
    given = ticket.__dict__
    unset = _RELATIONSHIPS - given.keys()
    if unset:
        raise ValueError(f"relationships of a new ticket left unset: {sorted(unset)}")
    values = {
        prop.columns[0].name: given[prop.key]
        for prop in _COLUMNS
        if prop.key in given and not prop.columns[0].computed
    }
    # What the database or a column's default filled in comes back; the rest is as given.
    filled = [prop for prop in _COLUMNS if prop.columns[0].name not in values]
    statement = insert(_TICKETS).values(values).returning(*(p.columns[0] for p in filled))
    row = (await session.execute(statement)).one()
    for prop, value in zip(filled, row, strict=True):
        set_committed_value(ticket, prop.key, value)
    tag_rows: list[TicketTag] = list(given["tag_rows"])
    projects = list(given["projects"])
    await _insert_rows(
        session,
        TicketTag,
        [
            {"ticket_id": ticket.id, "tag": t.tag, "ticket_created_at": t.ticket_created_at}
            for t in tag_rows
        ],
    )
    await _insert_rows(
        session, TicketProject, [{"ticket_id": ticket.id, "project_id": p.id} for p in projects]
    )
    for tag_row in tag_rows:
        set_committed_value(tag_row, "ticket_id", ticket.id)
        make_transient_to_detached(tag_row)
    make_transient_to_detached(ticket)
    session.add(ticket)  # with its tag rows, by cascade; both as they are in the database
    set_committed_value(ticket, "tag_rows", tag_rows)
    set_committed_value(ticket, "projects", projects)


async def _insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(cast(Table, model.__table__)), rows)
