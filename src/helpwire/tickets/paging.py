"""Numbered pages of tickets (page + page size, with the total), for faces whose clients
ask for "page 3 of 10 per page" rather than following a cursor.

The filters, the visibility rule and the search are listing's own (``build_query``); this
module adds only what offset pages need: the count, the page cut, a few filters that
listing does not have (access level, "not closed") and the sort by subject.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.problems import ValidationProblem
from helpwire.search.service import search_time_limit
from helpwire.tickets.listing import (
    NamedIds,
    SortField,
    SortOrder,
    TicketFilters,
    build_query,
    load_page,
    resolve_names,
)
from helpwire.tickets.models import AccessLevel, Status, Ticket

MAX_PER_PAGE = 1000


class PageSort(enum.StrEnum):
    """listing's sorts, and the subject."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NUMBER = "number"
    STATUS = "status"
    PRIORITY = "priority"
    SUBJECT = "subject"


@dataclass(frozen=True)
class TicketPageRequest:
    filters: TicketFilters
    page: int = 1
    per_page: int = 10
    sort: PageSort = PageSort.CREATED_AT
    order: SortOrder = SortOrder.DESC
    access_level: AccessLevel | None = None
    not_closed: bool = False


@dataclass(frozen=True)
class TicketPageResult:
    items: list[Ticket]
    item_count: int
    page: int
    per_page: int

    @property
    def page_count(self) -> int:
        return math.ceil(self.item_count / self.per_page)


def _query(
    actor: Actor, wanted: TicketPageRequest, dialect: str, names: NamedIds
) -> Select[tuple[int]]:
    core_sort = SortField.NUMBER if wanted.sort == PageSort.SUBJECT else SortField(wanted.sort)
    query = build_query(
        actor=actor,
        filters=wanted.filters,
        sort=core_sort,
        order=wanted.order,
        cursor=None,
        dialect=dialect,
        names=names,
    )
    extra: list[ColumnElement[bool]] = []
    if wanted.access_level is not None:
        extra.append(Ticket.access_level == wanted.access_level.value)
    if wanted.not_closed:
        extra.append(Ticket.status != Status.CLOSED.value)
    if extra:
        query = query.where(*extra)
    if wanted.sort == PageSort.SUBJECT:
        subject = Ticket.subject.expression
        query = query.order_by(None).order_by(
            *(
                (subject.desc(), Ticket.id.desc())
                if wanted.order == SortOrder.DESC
                else (subject.asc(), Ticket.id.asc())
            )
        )
    return query


async def ticket_page(
    session: AsyncSession, *, actor: Actor, wanted: TicketPageRequest
) -> TicketPageResult:
    """Page ``wanted.page`` (from 1) of the tickets the actor may see, and how many there
    are in all. Every sort ends in the ticket's id, so consecutive pages neither skip nor
    repeat a ticket while nothing changes."""
    if wanted.page < 1:
        raise ValidationProblem.for_field("page", "must be at least 1")
    if not 1 <= wanted.per_page <= MAX_PER_PAGE:
        raise ValidationProblem.for_field("per_page", f"must be 1..{MAX_PER_PAGE}")
    names = await resolve_names(session, actor, wanted.filters)
    query = _query(actor, wanted, session.bind.dialect.name, names)
    counted = select(func.count()).select_from(query.order_by(None).subquery())
    offset = (wanted.page - 1) * wanted.per_page
    async with search_time_limit(session, active=wanted.filters.q is not None):
        total = int(await session.scalar(counted) or 0)
        page = query.offset(offset).limit(wanted.per_page)
        rows = await load_page(session, list(await session.scalars(page))) if offset < total else []
    return TicketPageResult(
        items=rows, item_count=total, page=wanted.page, per_page=wanted.per_page
    )
