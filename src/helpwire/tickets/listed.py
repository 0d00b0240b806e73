"""A page of tickets, or one ticket, as plain values, read with one Core statement.

The native API's list answers each ticket with its people, account, topics, tags, projects
and relations. Loaded as ORM objects, a page of 25 was a hundred-odd objects, each tracked
by the session, and building them was most of a list's CPU. A list only shows these values,
so it reads them as rows: the tickets with everything joined that there is one of, and
their tags and projects' keys gathered per ticket into a JSON array by the database
(``json_agg`` / ``json_group_array``), which spares two round trips and their statements'
overhead per page. A GET of one ticket reads it the same way; what changes a ticket loads
the ORM object.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import STAFF_ROLES, Account, Project, User
from helpwire.fields.gathered import gathered_value, gathered_where
from helpwire.groups.models import Group
from helpwire.tickets.models import Ticket, TicketProject, TicketTag
from helpwire.tickets.visibility import visible_clause
from helpwire.topics.models import Subtopic, Topic


@dataclass(frozen=True)
class ListedPerson:
    username: str
    real_name: str
    email: str | None
    role: str

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True)
class ListedTicket:
    """What a list shows of a ticket; named as the Ticket model names it."""

    id: int
    number: int
    uid: str
    subject: str
    status: str
    priority: str
    type: str
    topic: str | None  # keys
    subtopic: str | None
    tags: list[str]
    requester: ListedPerson
    assignee: ListedPerson | None
    account: str | None
    projects: list[str]
    access_level: str
    context: dict[str, Any] | None
    via: str
    attributes: dict[str, Any] | None
    follow_up_of: int | None  # numbers
    split_from: int | None
    merged_into: int | None
    tp_id: str | None
    external_url: str | None
    rating_score: int | None
    rating_comment: str | None
    rated_at: datetime | None
    escalated: bool
    comment_count: int
    internal_note_count: int
    customer_read_at: datetime | None
    agent_read_at: datetime | None
    last_customer_activity_at: datetime | None
    last_agent_activity_at: datetime | None
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    version: int
    sla: dict[str, Any] | None
    sla_due_at: datetime | None  # the list's cursor by due time
    group: str | None  # its key
    # Its custom field values as gathered rows (fields.values.from_gathered reads them).
    field_rows: list[list[Any]]


_TICKET_COLUMNS = (
    Ticket.id,
    Ticket.number,
    Ticket.uid,
    Ticket.subject,
    Ticket.status,
    Ticket.priority,
    Ticket.type,
    Ticket.access_level,
    Ticket.context,
    Ticket.via,
    Ticket.attributes,
    Ticket.tp_id,
    Ticket.external_url,
    Ticket.rating_score,
    Ticket.rating_comment,
    Ticket.rated_at,
    Ticket.escalated,
    Ticket.comment_count,
    Ticket.internal_note_count,
    Ticket.customer_read_at,
    Ticket.agent_read_at,
    Ticket.last_customer_activity_at,
    Ticket.last_agent_activity_at,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.solved_at,
    Ticket.closed_at,
    Ticket.version,
    Ticket.sla,
    Ticket.sla_due_at,
)
_PERSON = ("username", "real_name", "email", "role")
_TICKET_KEYS = tuple(column.key for column in _TICKET_COLUMNS)


def _person(values: Sequence[Any]) -> ListedPerson | None:
    return None if values[0] is None else ListedPerson(*values)


# Made once: a statement built of the same aliases each time is one entry of SQLAlchemy's
# compiled cache; new aliases per call made every list compile its statement anew.
_REQUESTER, _ASSIGNEE = aliased(User, name="requester"), aliased(User, name="assignee")
_FOLLOW_UP_OF = aliased(Ticket, name="follow_up_of")
_SPLIT_FROM = aliased(Ticket, name="split_from")
_MERGED_INTO = aliased(Ticket, name="merged_into")


def _gathered(dialect: str, value: Any, *where: Any) -> Any:
    """A JSON array of ``value`` over the rows of ``where``, per ticket of the page (its
    order is put right in Python: SQLite's aggregate takes no ORDER BY)."""
    gather = func.json_agg if dialect == "postgresql" else func.json_group_array
    return select(gather(value, type_=JSON)).where(*where).scalar_subquery()


@functools.cache
def _page_query(dialect: str) -> Any:
    """A page's statement, built once per engine kind: building it was a fifth of a list's
    CPU (SQLAlchemy coerces every operand anew); the ids come as a parameter."""
    return _shown_query(dialect).where(Ticket.id.in_(bindparam("ids", expanding=True)))


@functools.cache
def _number_query(dialect: str) -> Any:
    """One ticket's statement, by its number (a parameter)."""
    return _shown_query(dialect).where(Ticket.number == bindparam("number"))


def _shown_query(dialect: str) -> Any:
    tags = _gathered(dialect, TicketTag.tag, TicketTag.ticket_id == Ticket.id)
    # Each project's key by a subquery of its own, from the ticket's rows: given both
    # tables to join, SQLite may walk every project and look each up for the ticket.
    project_key = (
        select(Project.key).where(Project.id == TicketProject.project_id).scalar_subquery()
    )
    projects = _gathered(dialect, project_key, TicketProject.ticket_id == Ticket.id)
    # Everything there is one of comes by a subquery on the row's key, not by a join: each
    # more table in the join made PostgreSQL's planning of this statement slower, and the
    # statement is planned every time it runs (see db/engine.py). At a million tickets,
    # three self-joins took 2.4 ms to plan against 0.7 ms; with the people, account and
    # topics joined too, planning took 0.8 ms of the page's 1.2 ms, by subqueries 0.25 ms.
    related = [
        select(value).where(table_id == reference).scalar_subquery()
        for value, table_id, reference in (
            (Account.key, Account.id, Ticket.account_id),
            (Topic.key, Topic.id, Ticket.topic_id),
            (Subtopic.key, Subtopic.id, Ticket.subtopic_id),
            (_FOLLOW_UP_OF.number, _FOLLOW_UP_OF.id, Ticket.follow_up_of_id),
            (_SPLIT_FROM.number, _SPLIT_FROM.id, Ticket.split_from_id),
            (_MERGED_INTO.number, _MERGED_INTO.id, Ticket.merged_into_id),
            (Group.key, Group.id, Ticket.group_id),
        )
    ]
    field_rows = _gathered(dialect, gathered_value(dialect), *gathered_where(Ticket.id))
    query = select(*_TICKET_COLUMNS, *_people(dialect), *related, tags, projects, field_rows)
    if dialect == "postgresql":
        return query.select_from(Ticket)
    return query.join(_REQUESTER, _REQUESTER.id == Ticket.requester_id).outerjoin(
        _ASSIGNEE, _ASSIGNEE.id == Ticket.assignee_id
    )


def _people(dialect: str) -> list[Any]:
    """The requester's and the assignee's shown values. On PostgreSQL each person is one
    subquery of a row value (a record, read as a tuple); SQLite has no row values in a
    result, and there the people are joined (its planning costs next to nothing)."""
    if dialect == "postgresql":
        return [
            select(func.row(*(getattr(User, name) for name in _PERSON)))
            .where(User.id == reference)
            .scalar_subquery()
            for reference in (Ticket.requester_id, Ticket.assignee_id)
        ]
    return [getattr(alias, name) for alias in (_REQUESTER, _ASSIGNEE) for name in _PERSON]


# Where each part of a row of _shown_query starts.
_PEOPLE_AT = len(_TICKET_COLUMNS)


def _listed(row: Sequence[Any], dialect: str) -> ListedTicket:
    if dialect == "postgresql":  # a row value per person (None: no assignee)
        requester, assignee = (
            None if values is None else ListedPerson(*values)
            for values in row[_PEOPLE_AT : _PEOPLE_AT + 2]
        )
        rest = row[_PEOPLE_AT + 2 :]
    else:  # the people's values one by one
        requester = _person(row[_PEOPLE_AT : _PEOPLE_AT + len(_PERSON)])
        assignee = _person(row[_PEOPLE_AT + len(_PERSON) : _PEOPLE_AT + 2 * len(_PERSON)])
        rest = row[_PEOPLE_AT + 2 * len(_PERSON) :]
    assert requester is not None  # every ticket has one (NOT NULL)
    (account, topic, subtopic, follow_up_of, split_from, merged_into, group, tags, projects) = rest[
        :9
    ]
    return ListedTicket(
        **dict(zip(_TICKET_KEYS, row[:_PEOPLE_AT], strict=True)),
        topic=topic,
        subtopic=subtopic,
        tags=sorted(tags or ()),
        requester=requester,
        assignee=assignee,
        account=account,
        projects=sorted(projects or ()),
        follow_up_of=follow_up_of,
        split_from=split_from,
        merged_into=merged_into,
        group=group,
        field_rows=list(rest[9] or ()),
    )


async def listed_tickets(session: AsyncSession, ids: Sequence[int]) -> list[ListedTicket]:
    """The tickets of ``ids`` in that order, as a list shows them (tags and projects
    sorted, as one ticket's answer sorts them)."""
    if not ids:
        return []
    dialect = session.bind.dialect.name
    # On the session's connection, not through the session: a statement of columns needs
    # none of the ORM's handling of results, which was a sixth of a list's CPU.
    connection = await session.connection()
    rows = (await connection.execute(_page_query(dialect), {"ids": list(ids)})).all()
    by_id = {row[0]: _listed(row, dialect) for row in rows}
    return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]


async def shown_ticket(session: AsyncSession, *, actor: Actor, number: int) -> ListedTicket | None:
    """Ticket ``number`` as an answer shows it, if the actor may see it: one statement,
    where loading the ORM object took three and three times the CPU (a GET reads and
    answers; what changes a ticket loads the object)."""
    dialect = session.bind.dialect.name
    query = _number_query(dialect)
    if not actor.is_staff:
        query = query.where(visible_clause(actor.user, user_project_ids=set(actor.project_ids)))
    connection = await session.connection()
    row = (await connection.execute(query, {"number": number})).first()
    return None if row is None else _listed(row, dialect)
