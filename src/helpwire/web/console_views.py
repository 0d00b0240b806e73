"""Saved views in the console: the sidebar's list with counts, saving the list on screen
as a view, and deleting one. Each view opens as the ticket list with its parameters in the
address, so the list, its filter form and its pages work on it as on any other list."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from helpwire.accounts.actor import Actor
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import RowId
from helpwire.problems import Forbidden, NotFound, Problem
from helpwire.tickets.filter_spec import TicketFilter, filter_of, query_parameters
from helpwire.views import service
from helpwire.views.models import SavedView
from helpwire.web.auth import CheckedForm, StaffWeb
from helpwire.web.console_list import SORTS, read_list_request
from helpwire.web.i18n import translate
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)


@dataclass(frozen=True)
class SidebarView:
    id: int
    name: str
    shared: bool
    url: str
    count: str  # "" when not counted


def view_url(view: SavedView) -> str:
    """The console's list of the view: its parameters in the address, and its id (which
    marks it current in the sidebar)."""
    parameters = query_parameters(TicketFilter.model_validate(view.filters))
    # The console's list has no relevance order (the API's has): newest first there.
    order = {"sort": view.sort, "order": view.order} if view.sort in SORTS else {}
    return "/agent?" + urlencode([("view", str(view.id)), *parameters, *order.items()])


def _shown(value: int, exact: bool) -> str:
    return str(value) if exact else f"{value}+"


async def sidebar_views(session: AsyncSession, *, actor: Actor) -> list[SidebarView]:
    """The views for the console's sidebar; the first MAX_COUNTED_VIEWS with counts."""
    views = await service.list_views(session, actor=actor)
    counts = await service.count_views(session, actor=actor, views=views)
    shown = []
    for view in views:
        count = counts.get(view.id)
        shown.append(
            SidebarView(
                id=view.id,
                name=view.name,
                shared=view.shared,
                url=view_url(view),
                count="" if count is None else _shown(count.value, count.exact),
            )
        )
    return shown


def _list_address(raw: str) -> str:
    """The console list the form was sent from (only a list of this site)."""
    return "/agent?" + raw if raw and not raw.startswith(("/", "\\")) else "/agent"


@router.post("/agent/views")
async def save_view(
    request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    """Save the list on screen (its address's parameters, sent as ``query``) as a view."""
    raw = form_text(form, "query")[:4000]
    wanted = read_list_request(QueryParams(raw))
    back = _list_address(raw)
    if wanted.errors:
        return redirect(
            back, notice=translate(request, "Fix the list's filters before saving it as a view.")
        )
    try:
        async with refusable(request, session):
            view = await service.create_view(
                session,
                actor=web.actor,
                name=form_text(form, "name").strip()[:255] or translate(request, "Untitled view"),
                ticket_filter=filter_of(wanted.filters),
                sort=wanted.sort,
                order=wanted.order,
                position=0,
                shared=form_text(form, "shared") == "1",
            )
    except PydanticValidationError:
        return redirect(back, notice=translate(request, "This list cannot be saved as a view."))
    except Problem as refused:
        return redirect(
            back,
            notice=translate(request, "The view was not saved: %(reason)s", reason=refused.detail),
        )
    return redirect(
        view_url(view), notice=translate(request, "Saved the view “%(name)s”.", name=view.name)
    )


@router.post("/agent/views/{view_id}/delete")
async def delete_view(
    view_id: RowId, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    try:
        async with refusable(request, session):
            view = await service.get_view(session, actor=web.actor, view_id=view_id)
            name = view.name
            await service.delete_view(session, actor=web.actor, view=view)
    except NotFound:
        return redirect("/agent", notice=translate(request, "That view was deleted already."))
    except Forbidden as refused:
        return redirect(
            "/agent",
            notice=translate(
                request, "The view was not deleted: %(reason)s.", reason=refused.detail
            ),
        )
    return redirect("/agent", notice=translate(request, "Deleted the view “%(name)s”.", name=name))
