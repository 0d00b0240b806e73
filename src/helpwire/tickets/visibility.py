"""Who sees which ticket, as one rule used both in SQL (lists) and in Python (one ticket).

Staff see everything. A customer (or a service user acting as itself) sees tickets of
their own account only, and there:
- their own tickets, always;
- ``all_users`` tickets;
- every ticket, if they have account-wide access;
- ``project_users`` tickets of a project they are a member of.
Everything else answers 404, exactly like a ticket that does not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import User
from helpwire.tickets.models import AccessLevel, Ticket, TicketProject


def can_see(user: User, ticket: Ticket, *, user_project_ids: set[int]) -> bool:
    if user.is_staff:
        return True
    if user.account_id is None or ticket.account_id != user.account_id:
        return False
    if ticket.requester_id == user.id or user.account_wide:
        return True
    if ticket.access_level == AccessLevel.ALL_USERS:
        return True
    if ticket.access_level == AccessLevel.PROJECT_USERS:
        return any(p.id in user_project_ids for p in ticket.projects)
    return False


def visible_clause(user: User, *, user_project_ids: set[int]) -> ColumnElement[bool]:
    if user.is_staff:
        return true()
    if user.account_id is None:
        return false()
    same_account = Ticket.account_id == user.account_id
    if user.account_wide:
        return same_account
    alternatives: list[ColumnElement[bool]] = [
        Ticket.requester_id == user.id,
        Ticket.access_level == AccessLevel.ALL_USERS.value,
    ]
    if user_project_ids:
        alternatives.append(
            and_(
                Ticket.access_level == AccessLevel.PROJECT_USERS.value,
                exists(
                    select(TicketProject.ticket_id).where(
                        TicketProject.ticket_id == Ticket.id,
                        TicketProject.project_id.in_(user_project_ids),
                    )
                ),
            )
        )
    return and_(same_account, or_(*alternatives))


def may_speak_for_ticket(actor: Actor, ticket: Ticket) -> bool:
    """Who may rate a ticket and its replies, and change who sees it: staff, its requester,
    and users with account-wide access. A colleague who merely can see the ticket may
    not widen its audience or overwrite the requester's rating."""
    user = actor.user
    if user.is_staff:
        return True
    return ticket.account_id == user.account_id and (
        ticket.requester_id == user.id or user.account_wide
    )
