"""The agents' queues: named ticket lists with a live count each.

A queue is two things that must agree: the filters its list is shown with (through
tickets.listing, keyset pages) and the condition its count is taken with. The count's
condition is spelled so that an index of tickets/models.py serves all of it as index
ranges (status -> the status index; mine and unassigned -> (assignee_id, status); urgent
-> (priority_rank, status); escalated -> (escalated, status); my groups -> (group_id,
status); SLA breached -> (sla_breached, status)), so the closed tickets of
years past are never read, and each count stops at ``COUNT_CAP`` rows: a queue of a
million tickets costs a capped index scan, not a scan of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.groups.models import GroupMember
from helpwire.problems import Forbidden
from helpwire.tickets.listing import TicketFilters, followed_by
from helpwire.tickets.models import PRIORITY_RANK, Priority, Status, Ticket

COUNT_CAP = 10_000

# Statuses support still works on: everything but solved and closed.
WORKING = (Status.NEW, Status.OPEN, Status.PENDING, Status.HOLD)
NOT_CLOSED = (*WORKING, Status.SOLVED)


def _values(statuses: tuple[Status, ...]) -> list[str]:
    return [s.value for s in statuses]


@dataclass(frozen=True)
class Queue:
    name: str
    label: str
    # The key of the "g <key>" shortcut, if the queue has one.
    goto: str | None
    filters: TicketFilters
    # The same set of tickets as ``filters``, for the count; takes the agent asking.
    condition: Callable[[Actor], ColumnElement[bool]]


def _status_queue(status: Status, goto: str) -> Queue:
    return Queue(
        name=status.value,
        label=status.value.capitalize(),
        goto=goto,
        filters=TicketFilters(statuses=(status,)),
        condition=lambda _actor: Ticket.status == status.value,
    )


QUEUES: tuple[Queue, ...] = (
    _status_queue(Status.NEW, "n"),
    _status_queue(Status.OPEN, "o"),
    _status_queue(Status.PENDING, "p"),
    _status_queue(Status.HOLD, "h"),
    _status_queue(Status.SOLVED, "s"),
    Queue(
        name="mine",
        label="Mine",
        goto="m",
        filters=TicketFilters(assignee="me", statuses=WORKING),
        condition=lambda actor: and_(
            Ticket.assignee_id == actor.user.id, Ticket.status.in_(_values(WORKING))
        ),
    ),
    Queue(
        name="unassigned",
        label="Unassigned",
        goto="u",
        filters=TicketFilters(assignee="none", statuses=WORKING),
        condition=lambda _actor: and_(
            Ticket.assignee_id.is_(None), Ticket.status.in_(_values(WORKING))
        ),
    ),
    Queue(
        name="urgent",
        label="Urgent",
        goto=None,
        filters=TicketFilters(priorities=(Priority.URGENT,), statuses=WORKING),
        # The stored rank, not the priority text: the rank column has the index.
        condition=lambda _actor: and_(
            Ticket.priority_rank == PRIORITY_RANK[Priority.URGENT],
            Ticket.status.in_(_values(WORKING)),
        ),
    ),
    Queue(
        name="escalated",
        label="Escalated",
        goto=None,
        filters=TicketFilters(escalated=True, statuses=NOT_CLOSED),
        # "= true", not "IS TRUE": PostgreSQL uses only the former as an index condition.
        condition=lambda _actor: and_(
            Ticket.escalated == True,  # noqa: E712
            Ticket.status.in_(_values(NOT_CLOSED)),
        ),
    ),
)


def _my_groups(actor: Actor) -> ColumnElement[bool]:
    groups = select(GroupMember.group_id).where(GroupMember.user_id == actor.user.id)
    return and_(Ticket.group_id.in_(groups), Ticket.status.in_(_values(WORKING)))


QUEUES += (
    Queue(
        name="my_groups",
        label="My groups",
        goto="t",
        filters=TicketFilters(group="mine", statuses=WORKING),
        # (group_id, status): one index range per group and status.
        condition=_my_groups,
    ),
    Queue(
        name="sla_breached",
        label="SLA breached",
        goto="b",
        filters=TicketFilters(sla_breached=True, statuses=NOT_CLOSED),
        condition=lambda _actor: and_(
            Ticket.sla_breached == True,  # noqa: E712 (see escalated)
            Ticket.status.in_(_values(NOT_CLOSED)),
        ),
    ),
)

QUEUES += (
    Queue(
        name="following",
        label="Following",
        goto="f",
        filters=TicketFilters(following=True, statuses=NOT_CLOSED),
        # The followers' (user_id, ticket_id) index gives the ids; a person follows few.
        condition=lambda actor: and_(followed_by(actor), Ticket.status.in_(_values(NOT_CLOSED))),
    ),
)

QUEUES_BY_NAME = {queue.name: queue for queue in QUEUES}


async def queue_counts(
    session: AsyncSession, *, actor: Actor, cap: int = COUNT_CAP
) -> dict[str, int]:
    """How many tickets each queue holds, each at most ``cap + 1`` (more than ``cap``
    means "cap+"). One round trip: one scalar subquery per queue, each counting a
    LIMITed set of ids."""
    if not actor.is_staff:
        raise Forbidden("queues are an agent's view")
    columns = []
    for queue in QUEUES:
        capped = (
            select(literal(1).label("one"))
            .select_from(Ticket)
            .where(queue.condition(actor))
            .limit(cap + 1)
            .subquery(f"q_{queue.name}")
        )
        columns.append(select(func.count()).select_from(capped).scalar_subquery().label(queue.name))
    row = (await session.execute(select(*columns))).one()
    return {queue.name: int(value) for queue, value in zip(QUEUES, row, strict=True)}


def shown_counts(counts: dict[str, int], *, cap: int = COUNT_CAP) -> dict[str, int | str]:
    """Counts as shown: exact up to the cap, then ``"10000+"``."""
    return {name: f"{cap}+" if n > cap else n for name, n in counts.items()}
