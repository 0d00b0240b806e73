"""The customer portal: my tickets here; filing a ticket (portal_new) and the conversation
(portal_ticket) in modules of their own, mounted on this router.

Thin like every face: the rules live in the tickets and topics services; this module turns
forms into service calls and answers with pages. Agents and admins work in the console
(/agent); the portal sends them there."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.problems import ValidationProblem
from helpwire.tickets import service
from helpwire.tickets.listing import SortField, SortOrder, TicketFilters, list_tickets
from helpwire.tickets.models import Status, Ticket
from helpwire.web import portal_new, portal_ticket
from helpwire.web.auth import Web
from helpwire.web.i18n import N_
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

PAGE_SIZE = 25
# The status filters of "My tickets": what the customer still waits for, what is done.
STATUS_VIEWS: dict[str, tuple[Status, ...]] = {
    "open": (Status.NEW, Status.OPEN, Status.PENDING, Status.HOLD),
    "solved": (Status.SOLVED, Status.CLOSED),
    "all": (),
}
STATUS_VIEW_LABELS = {"open": N_("Open"), "solved": N_("Solved and closed"), "all": N_("All")}


@router.get("/tickets")
async def my_tickets(
    request: Request,
    session: Session,
    web: Web,
    status: Annotated[str, Query(max_length=16)] = "open",
    q: Annotated[str, Query(max_length=500)] = "",
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    if web.actor.is_staff:
        return redirect("/agent")
    if status not in STATUS_VIEWS:
        raise ValidationProblem.for_field("status", "must be one of " + ", ".join(STATUS_VIEWS))
    filters = TicketFilters(statuses=STATUS_VIEWS[status], q=q.strip() or None)
    tickets: list[Ticket] = []
    next_cursor: str | None = None
    error: str | None = None
    try:
        tickets, next_cursor = await list_tickets(
            session,
            actor=web.actor,
            filters=filters,
            sort=SortField.CREATED_AT,
            order=SortOrder.DESC,
            limit=PAGE_SIZE,
            cursor=cursor or None,
        )
    except ValidationProblem as problem:  # a search without words, a cursor of another list
        error = problem.detail
    return render(
        request,
        "portal/list.html",
        status_code=422 if error else 200,
        tickets=[(ticket, not service.read_state(ticket)[0]) for ticket in tickets],
        status=status,
        status_views=STATUS_VIEW_LABELS,
        q=q,
        paged=cursor is not None,
        next_cursor=next_cursor,
        error=error,
    )


# After /tickets: "/tickets/new" must be matched before "/tickets/{number}".
router.include_router(portal_new.router)
router.include_router(portal_ticket.router)
