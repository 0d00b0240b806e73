"""The views API: staff list, read and count views; each saves their own, admins share."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import Session, StaffPrincipal
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.model_json import ModelJSONResponse
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import RowId
from helpwire.fields.gathered import from_gathered
from helpwire.tickets.listing import SortField, SortOrder, TicketCount, list_and_count_tickets
from helpwire.tickets.schemas import ListCount, TicketPage
from helpwire.tickets.serialize import listed_ticket_out
from helpwire.views import service
from helpwire.views.models import SavedView
from helpwire.views.schemas import ViewCreate, ViewOut, ViewUpdate

router = APIRouter(prefix="/api/v1", tags=["views"], responses=PROBLEM_RESPONSES)


def view_out(view: SavedView, *, owner: str | None, count: TicketCount | None) -> ViewOut:
    return ViewOut(
        id=view.id,
        name=view.name,
        shared=view.shared,
        owner=owner,
        filter=view.filters,
        sort=SortField(view.sort),
        order=SortOrder(view.order),
        position=view.position,
        count=None if count is None else ListCount(value=count.value, exact=count.exact),
    )


@router.get(
    "/views",
    response_model=list[ViewOut],
    summary="Shared views and the caller's own, the first 20 counted (staff)",
)
async def list_views(session: Session, staff: StaffPrincipal) -> list[ViewOut]:
    views = await service.list_views(session, actor=staff)
    counts = await service.count_views(session, actor=staff, views=views)
    return [
        view_out(v, owner=None if v.shared else staff.user.username, count=counts.get(v.id))
        for v in views
    ]


@router.post(
    "/views",
    status_code=status.HTTP_201_CREATED,
    response_model=ViewOut,
    summary="Save a view (staff; shared ones admins only)",
)
async def create_view(
    request: Request,
    body: ViewCreate,
    session: Session,
    staff: StaffPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[ViewOut, dict[str, str]]:
        view = await service.create_view(
            session,
            actor=staff,
            name=body.name,
            ticket_filter=body.filter,
            sort=body.sort,
            order=body.order,
            position=body.position,
            shared=body.shared,
        )
        count = await service.count_view(session, actor=staff, view=view)
        owner = None if view.shared else staff.user.username
        return view_out(view, owner=owner, count=count), {"Location": f"/api/v1/views/{view.id}"}

    return await create_once(session, request=request, actor=staff, body=body, produce=produce)


@router.get("/views/{view_id}", response_model=ViewOut, summary="A view and its count (staff)")
async def get_view(view_id: RowId, session: Session, staff: StaffPrincipal) -> ViewOut:
    view = await service.get_view(session, actor=staff, view_id=view_id)
    count = await service.count_view(session, actor=staff, view=view)
    return view_out(view, owner=None if view.shared else staff.user.username, count=count)


@router.patch("/views/{view_id}", response_model=ViewOut, summary="Change a view (staff)")
async def update_view(
    view_id: RowId, body: ViewUpdate, session: Session, staff: StaffPrincipal
) -> ViewOut:
    view = await service.get_view(session, actor=staff, view_id=view_id)
    view = await service.update_view(
        session,
        actor=staff,
        view=view,
        name=body.name,
        ticket_filter=body.filter,
        sort=body.sort,
        order=body.order,
        position=body.position,
    )
    count = await service.count_view(session, actor=staff, view=view)
    return view_out(view, owner=None if view.shared else staff.user.username, count=count)


@router.delete(
    "/views/{view_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Delete a view (staff)"
)
async def delete_view(view_id: RowId, session: Session, staff: StaffPrincipal) -> Response:
    view = await service.get_view(session, actor=staff, view_id=view_id)
    await service.delete_view(session, actor=staff, view=view)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/views/{view_id}/tickets",
    response_model=TicketPage,
    summary="The tickets a view lists, a page at a time (staff)",
)
async def view_tickets(
    view_id: RowId,
    session: Session,
    staff: StaffPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    cursor: str | None = None,
) -> JSONResponse:
    view = await service.get_view(session, actor=staff, view_id=view_id)
    filters, sort, order = service.listed_by(view)
    found = await list_and_count_tickets(
        session, actor=staff, filters=filters, sort=sort, order=order, limit=limit, cursor=cursor
    )
    return ModelJSONResponse(
        TicketPage(
            items=[
                listed_ticket_out(t, staff=True, fields=from_gathered(t.field_rows, staff=True))
                for t in found.items
            ],
            next_cursor=found.next_cursor,
            count=ListCount(value=found.count.value, exact=found.count.exact),
        )
    )
