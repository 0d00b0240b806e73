"""Rules of saved views: who sees, makes and changes them, what they list and count.

Agents and admins save their own views; a shared view (no owner) is seen by all staff and
made, changed and deleted by admins only, as shared macros are. Customers have no views.
A view keeps the list's parameters as given ("assignee": "me" means whoever looks), checked
when saved and read again each time it is listed, so it lists exactly what the ticket list
would with those parameters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.db.base import utcnow
from helpwire.problems import Conflict, Forbidden, NotFound, ValidationProblem
from helpwire.tickets.filter_spec import TicketFilter
from helpwire.tickets.listing import (
    COUNT_CAP,
    SEARCH_COUNT_CAP,
    SortField,
    SortOrder,
    TicketCount,
    TicketFilters,
    count_tickets,
)
from helpwire.views.models import SavedView

# Each person's own views, and the shared ones, are at most this many.
MAX_VIEWS = 100
# A list of views counts the tickets of its first this many only: each count is a capped
# index scan, and a sidebar of a hundred of them would cost a hundred.
MAX_COUNTED_VIEWS = 20


def _check_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise Forbidden("views are for agents and admins")


def _visible(actor: Actor) -> Any:
    return or_(SavedView.owner_id.is_(None), SavedView.owner_id == actor.user.id)


async def list_views(session: AsyncSession, *, actor: Actor) -> Sequence[SavedView]:
    """Shared views and the actor's own, by position, then name."""
    _check_staff(actor)
    query = (
        select(SavedView)
        .where(_visible(actor))
        .order_by(SavedView.position, func.lower(SavedView.name), SavedView.id)
    )
    return (await session.scalars(query)).all()


async def get_view(session: AsyncSession, *, actor: Actor, view_id: int) -> SavedView:
    """A view the actor may see; another agent's own answers 404, as if it did not exist."""
    _check_staff(actor)
    view = await session.scalar(select(SavedView).where(SavedView.id == view_id, _visible(actor)))
    if view is None:
        raise NotFound(f"no view {view_id}")
    return view


def _check_lists(ticket_filter: TicketFilter, sort: SortField) -> None:
    """A view must be a list the ticket list would show: readable filters, and words to
    rank when sorted by relevance."""
    ticket_filter.filters()
    if sort == SortField.RELEVANCE and ticket_filter.q is None:
        raise ValidationProblem.for_field("sort", "relevance ranks a search: give filter.q")


def _check_may_change(actor: Actor, view: SavedView) -> None:
    if view.owner_id is None and not actor.is_admin:
        raise Forbidden("only admins change shared views")


async def _check_name_free(
    session: AsyncSession, *, owner_id: int | None, name: str, other_than: int | None
) -> None:
    same_owner = (
        SavedView.owner_id.is_(None) if owner_id is None else SavedView.owner_id == owner_id
    )
    query = select(SavedView.id).where(
        same_owner, func.lower(SavedView.name) == name.lower(), SavedView.id != (other_than or 0)
    )
    if await session.scalar(query) is not None:
        raise Conflict(f"a view named {name!r} exists already")


async def create_view(
    session: AsyncSession,
    *,
    actor: Actor,
    name: str,
    ticket_filter: TicketFilter,
    sort: SortField,
    order: SortOrder,
    position: int,
    shared: bool,
) -> SavedView:
    _check_staff(actor)
    if shared and not actor.is_admin:
        raise Forbidden("only admins make shared views")
    owner_id = None if shared else actor.user.id
    _check_lists(ticket_filter, sort)
    await _check_name_free(session, owner_id=owner_id, name=name, other_than=None)
    same_owner = (
        SavedView.owner_id.is_(None) if owner_id is None else SavedView.owner_id == owner_id
    )
    held = await session.scalar(select(func.count()).select_from(SavedView).where(same_owner))
    if (held or 0) >= MAX_VIEWS:
        raise ValidationProblem.for_field(
            "shared" if shared else "name", f"at most {MAX_VIEWS} views each", "too_many"
        )
    now = utcnow()
    view = SavedView(
        name=name,
        owner_id=owner_id,
        filters=ticket_filter.given(),
        sort=sort.value,
        order=order.value,
        position=position,
        created_at=now,
        updated_at=now,
    )
    session.add(view)
    await session.flush()
    return view


async def update_view(
    session: AsyncSession,
    *,
    actor: Actor,
    view: SavedView,
    name: str | None = None,
    ticket_filter: TicketFilter | None = None,
    sort: SortField | None = None,
    order: SortOrder | None = None,
    position: int | None = None,
) -> SavedView:
    _check_may_change(actor, view)
    if name is not None:
        await _check_name_free(session, owner_id=view.owner_id, name=name, other_than=view.id)
        view.name = name
    _check_lists(
        ticket_filter or TicketFilter.model_validate(view.filters), sort or SortField(view.sort)
    )
    if ticket_filter is not None:
        view.filters = ticket_filter.given()
    if sort is not None:
        view.sort = sort.value
    if order is not None:
        view.order = order.value
    if position is not None:
        view.position = position
    view.updated_at = utcnow()
    await session.flush()
    return view


async def delete_view(session: AsyncSession, *, actor: Actor, view: SavedView) -> None:
    _check_may_change(actor, view)
    await session.delete(view)
    await session.flush()


def listed_by(view: SavedView) -> tuple[TicketFilters, SortField, SortOrder]:
    """The list a view shows: its filters (read as the list reads them), sort and order."""
    filters = TicketFilter.model_validate(view.filters).filters()
    sort = SortField(view.sort)
    if sort == SortField.SLA_DUE_AT and filters.sla_running is None:
        # As the list by due time: only tickets that have one (tickets.listing._for_sort).
        filters = replace(filters, sla_running=True)
    return filters, sort, SortOrder(view.order)


async def count_view(session: AsyncSession, *, actor: Actor, view: SavedView) -> TicketCount:
    """How many tickets the view lists for ``actor``, capped as the ticket list's count."""
    filters, _sort, _order = listed_by(view)
    cap = SEARCH_COUNT_CAP if filters.q is not None else COUNT_CAP
    return await count_tickets(session, actor=actor, filters=filters, cap=cap)


async def count_views(
    session: AsyncSession, *, actor: Actor, views: Sequence[SavedView]
) -> dict[int, TicketCount]:
    """The counts of the first MAX_COUNTED_VIEWS views; the others are not counted."""
    return {
        view.id: await count_view(session, actor=actor, view=view)
        for view in views[:MAX_COUNTED_VIEWS]
    }
