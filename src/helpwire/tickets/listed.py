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
    requester, assignee = _REQUESTER, _ASSIGNEE
    follow_up_of, split_from, merged_into = _FOLLOW_UP_OF, _SPLIT_FROM, _MERGED_INTO
    people = [getattr(alias, name) for alias in (requester, assignee) for name in _PERSON]
    tags = _gathered(dialect, TicketTag.tag, TicketTag.ticket_id == Ticket.id)
    # Each project's key by a subquery of its own, from the ticket's rows: given both
    # tables to join, SQLite may walk every project and look each up for the ticket.
    project_key = (
        select(Project.key).where(Project.id == TicketProject.project_id).scalar_subquery()
    )
    projects = _gathered(dialect, project_key, TicketProject.ticket_id == Ticket.id)
    return (
        select(
            *_TICKET_COLUMNS,
            *people,
            Account.key,
            Topic.key,
            Subtopic.key,
            *(
                # By subqueries, not joins: each more instance of the tickets table (26
                # indexes) in the join made PostgreSQL's planning of this statement slower,
                # 2.4 ms with three self-joins against 0.7 ms, every time it runs.
                select(alias.number).where(alias.id == reference).scalar_subquery()
                for alias, reference in (
                    (follow_up_of, Ticket.follow_up_of_id),
                    (split_from, Ticket.split_from_id),
                    (merged_into, Ticket.merged_into_id),
                )
            ),
            tags,
            projects,
        )
        .join(requester, requester.id == Ticket.requester_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(Account, Account.id == Ticket.account_id)
        .outerjoin(Topic, Topic.id == Ticket.topic_id)
        .outerjoin(Subtopic, Subtopic.id == Ticket.subtopic_id)
    )


# Where each part of a row of _shown_query starts.
_REQUESTER_AT = len(_TICKET_COLUMNS)
_ASSIGNEE_AT = _REQUESTER_AT + len(_PERSON)
_REST_AT = _ASSIGNEE_AT + len(_PERSON)


def _listed(row: Sequence[Any]) -> ListedTicket:
    requester = _person(row[_REQUESTER_AT:_ASSIGNEE_AT])
    assert requester is not None  # every ticket has one (NOT NULL, inner join)
    account, topic, subtopic, follow_up_of, split_from, merged_into, tags, projects = row[_REST_AT:]
    return ListedTicket(
        **dict(zip(_TICKET_KEYS, row[:_REQUESTER_AT], strict=True)),
        topic=topic,
        subtopic=subtopic,
        tags=sorted(tags or ()),
        requester=requester,
        assignee=_person(row[_ASSIGNEE_AT:_REST_AT]),
        account=account,
        projects=sorted(projects or ()),
        follow_up_of=follow_up_of,
        split_from=split_from,
        merged_into=merged_into,
    )


async def listed_tickets(session: AsyncSession, ids: Sequence[int]) -> list[ListedTicket]:
    """The tickets of ``ids`` in that order, as a list shows them (tags and projects
    sorted, as one ticket's answer sorts them)."""
    if not ids:
        return []
    query = _page_query(session.bind.dialect.name)
    rows = (await session.execute(query, {"ids": list(ids)})).all()
    by_id = {row[0]: _listed(row) for row in rows}
    return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]


async def shown_ticket(session: AsyncSession, *, actor: Actor, number: int) -> ListedTicket | None:
    """Ticket ``number`` as an answer shows it, if the actor may see it: one statement,
    where loading the ORM object took three and three times the CPU (a GET reads and
    answers; what changes a ticket loads the object)."""
    query = _number_query(session.bind.dialect.name)
    if not actor.is_staff:
        query = query.where(visible_clause(actor.user, user_project_ids=set(actor.project_ids)))
    row = (await session.execute(query, {"number": number})).first()
    return None if row is None else _listed(row)
