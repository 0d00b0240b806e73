"""A page of tickets as plain values, read with three Core statements.

The native API's list answers each ticket with its people, account, topics, tags, projects
and relations. Loaded as ORM objects, a page of 25 was a hundred-odd objects, each tracked
by the session, and building them was most of a list's CPU. A list only shows these values,
so it reads them as rows: the tickets with everything joined that there is one of, then
their tags, then their projects' keys. One ticket (GET) still loads the ORM object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from helpwire.accounts.models import STAFF_ROLES, Account, Project, User
from helpwire.tickets.models import Ticket, TicketProject, TicketTag
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
)
_PERSON = ("username", "real_name", "email", "role")


def _person(row: Any, prefix: str) -> ListedPerson | None:
    if getattr(row, f"{prefix}_username") is None:
        return None
    return ListedPerson(*(getattr(row, f"{prefix}_{name}") for name in _PERSON))


# Made once: a statement built of the same aliases each time is one entry of SQLAlchemy's
# compiled cache; new aliases per call made every list compile its statement anew.
_REQUESTER, _ASSIGNEE = aliased(User, name="requester"), aliased(User, name="assignee")
_FOLLOW_UP_OF = aliased(Ticket, name="follow_up_of")
_SPLIT_FROM = aliased(Ticket, name="split_from")
_MERGED_INTO = aliased(Ticket, name="merged_into")


def _page_query(ids: Sequence[int]) -> Any:
    requester, assignee = _REQUESTER, _ASSIGNEE
    follow_up_of, split_from, merged_into = _FOLLOW_UP_OF, _SPLIT_FROM, _MERGED_INTO
    people = [
        getattr(alias, name).label(f"{prefix}_{name}")
        for prefix, alias in (("requester", requester), ("assignee", assignee))
        for name in _PERSON
    ]
    return (
        select(
            *_TICKET_COLUMNS,
            *people,
            Account.key.label("account_key"),
            Topic.key.label("topic_key"),
            Subtopic.key.label("subtopic_key"),
            follow_up_of.number.label("follow_up_of_number"),
            split_from.number.label("split_from_number"),
            merged_into.number.label("merged_into_number"),
        )
        .join(requester, requester.id == Ticket.requester_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .outerjoin(Account, Account.id == Ticket.account_id)
        .outerjoin(Topic, Topic.id == Ticket.topic_id)
        .outerjoin(Subtopic, Subtopic.id == Ticket.subtopic_id)
        .outerjoin(follow_up_of, follow_up_of.id == Ticket.follow_up_of_id)
        .outerjoin(split_from, split_from.id == Ticket.split_from_id)
        .outerjoin(merged_into, merged_into.id == Ticket.merged_into_id)
        .where(Ticket.id.in_(ids))
    )


async def _grouped(session: AsyncSession, query: Any) -> dict[int, list[str]]:
    """``(ticket id, value)`` rows, in the query's order, gathered per ticket."""
    grouped: dict[int, list[str]] = {}
    for ticket_id, value in (await session.execute(query)).tuples():
        grouped.setdefault(ticket_id, []).append(value)
    return grouped


async def listed_tickets(session: AsyncSession, ids: Sequence[int]) -> list[ListedTicket]:
    """The tickets of ``ids`` in that order, as a list shows them (tags and projects
    sorted, as one ticket's answer sorts them)."""
    if not ids:
        return []
    rows = (await session.execute(_page_query(ids))).all()
    tags = await _grouped(
        session,
        select(TicketTag.ticket_id, TicketTag.tag)
        .where(TicketTag.ticket_id.in_(ids))
        .order_by(TicketTag.ticket_id, TicketTag.tag),
    )
    projects = await _grouped(
        session,
        select(TicketProject.ticket_id, Project.key)
        .join(Project, Project.id == TicketProject.project_id)
        .where(TicketProject.ticket_id.in_(ids))
        .order_by(TicketProject.ticket_id, Project.key),
    )
    by_id = {}
    for row in rows:
        requester = _person(row, "requester")
        assert requester is not None  # every ticket has one (NOT NULL, inner join)
        by_id[row.id] = ListedTicket(
            **{column.key: getattr(row, column.key) for column in _TICKET_COLUMNS},
            topic=row.topic_key,
            subtopic=row.subtopic_key,
            tags=tags.get(row.id, []),
            requester=requester,
            assignee=_person(row, "assignee"),
            account=row.account_key,
            projects=projects.get(row.id, []),
            follow_up_of=row.follow_up_of_number,
            split_from=row.split_from_number,
            merged_into=row.merged_into_number,
        )
    return [by_id[ticket_id] for ticket_id in ids if ticket_id in by_id]
