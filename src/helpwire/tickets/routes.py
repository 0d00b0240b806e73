"""The native tickets API: a thin layer over tickets.service."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.api.deps import CurrentPrincipal, Session, get_settings
from helpwire.api.idempotency import respond_once
from helpwire.api.metrics import count_ticket_created
from helpwire.api.model_json import ModelJSONResponse
from helpwire.api.pagination import cursor_id, encode_cursor
from helpwire.api.responses import PRECONDITION_RESPONSES, PROBLEM_RESPONSES
from helpwire.api.types import MAX_INT32, MAX_INT64, RowId, TicketNumber
from helpwire.fields.filters import FILTER_PREFIX
from helpwire.fields.gathered import from_gathered
from helpwire.mail.cc import cc_of
from helpwire.tickets import comments as comment_service
from helpwire.tickets import field_values, followers, moving, service
from helpwire.tickets.events import list_events
from helpwire.tickets.list_query import TicketListQuery
from helpwire.tickets.listing import SortField, SortOrder, TicketFilters, list_and_count_tickets
from helpwire.tickets.models import Ticket, TicketFollower
from helpwire.tickets.schemas import (
    CloseRequest,
    CommentCreate,
    CommentOut,
    CommentPage,
    CommentRatingRequest,
    EventPage,
    FollowerOut,
    FollowersOut,
    FollowRequest,
    ListCount,
    MergeRequest,
    Ranking,
    ReopenRequest,
    SplitRequest,
    TicketCreate,
    TicketOut,
    TicketPage,
    TicketRatingRequest,
    TicketUpdate,
)
from helpwire.tickets.serialize import comment_out, event_out, listed_ticket_out, ticket_out

router = APIRouter(prefix="/api/v1", tags=["tickets"], responses=PROBLEM_RESPONSES)


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return str(value) if value else None


async def _answer(session: AsyncSession, ticket: Ticket, principal: Actor) -> JSONResponse:
    """The ticket as the principal may see it, with the ETag of that representation."""
    staff = principal.is_staff
    return ModelJSONResponse(
        await _ticket_out(session, ticket, staff=staff),
        headers={"ETag": service.etag_for(ticket, staff=staff)},
    )


async def _ticket_out(session: AsyncSession, ticket: Ticket, *, staff: bool) -> TicketOut:
    values = await field_values.values_for(session, ticket_ids=[ticket.id], staff=staff)
    return ticket_out(ticket, staff=staff, fields=values.get(ticket.id, {}))


async def _created(
    session: AsyncSession, ticket: Ticket, principal: Actor
) -> tuple[TicketOut, dict[str, str]]:
    """A new ticket's answer (filed, or split off another) and its headers."""
    return await _ticket_out(session, ticket, staff=principal.is_staff), {
        "ETag": service.etag_for(ticket, staff=principal.is_staff),
        "Location": f"/api/v1/tickets/{ticket.number}",
    }


def _given(raw: str | None) -> tuple[str, ...]:
    return () if raw is None else (raw,)


_TIME_FILTER = Query(
    description="An ISO 8601 date (2026-01-31: the start of that day in UTC) or date-time "
    "(2026-01-31T09:30:00+02:00; without an offset, UTC). `…_after` includes that moment, "
    "`…_before` does not."
)


@router.post(
    "/tickets",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketOut,
    summary="File a ticket",
)
async def create_ticket(
    request: Request,
    body: TicketCreate,
    session: Session,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    settings = get_settings(request)

    async def produce() -> tuple[TicketOut, dict[str, str]]:
        ticket = await service.create_ticket(
            session,
            actor=principal,
            new=body,
            via="api",
            request_id=_request_id(request),
            max_files=settings.max_files_per_comment,
        )
        count_ticket_created(request, via=ticket.via)
        return await _created(session, ticket, principal)

    return await respond_once(
        session,
        request=request,
        actor=principal,
        payload=body.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        produce=produce,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )


SORT_PATTERN = (
    "^("
    + "|".join(s.value for s in SortField if s != SortField.FIELD)
    + r"|field\.[a-z0-9][a-z0-9_.-]{0,63})$"
)


def field_filters_of(request: Request) -> tuple[tuple[str, str], ...]:
    """The ``field.<key>`` parameters, each (key, value), in the order given."""
    return tuple(
        (name.removeprefix(FILTER_PREFIX), value)
        for name, value in request.query_params.multi_items()
        if name.startswith(FILTER_PREFIX)
    )


def sorted_by(sort: str, filters: TicketFilters) -> tuple[SortField, TicketFilters]:
    if sort.startswith(FILTER_PREFIX):
        return SortField.FIELD, replace(filters, sort_field=sort.removeprefix(FILTER_PREFIX))
    return SortField(sort), filters


@router.get(
    "/tickets",
    response_model=TicketPage,
    summary="List and search tickets",
    description="Custom fields filter the list as `field.<key>=<value>` (GET /api/v1/fields "
    "names them): a value, an option, a date (YYYY-MM-DD), true or false; several of one field "
    "match any of them; a range `a..b`, `a..` or `..b` (inclusive) for number and date fields.",
)
async def get_tickets(
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    status_: Annotated[
        str | None, Query(alias="status", description="One or more, comma-separated.")
    ] = None,
    priority: Annotated[str | None, Query(description="One or more, comma-separated.")] = None,
    type_: Annotated[
        str | None, Query(alias="type", description="One or more, comma-separated.")
    ] = None,
    topic: str | None = None,
    assignee: Annotated[str | None, Query(description="A username, `me` or `none`.")] = None,
    requester: Annotated[str | None, Query(description="A username or `me`.")] = None,
    tag: str | None = None,
    account: str | None = None,
    project: str | None = None,
    escalated: bool | None = None,
    subtopic: Annotated[
        str | None, Query(description="A subtopic key; with `topic`, of that topic only.")
    ] = None,
    access_level: Annotated[str | None, Query(description="One or more, comma-separated.")] = None,
    via: Annotated[
        str | None,
        Query(description="The channel it was filed through: `api`, `web` or a face's name."),
    ] = None,
    rated: Annotated[bool | None, Query(description="Whether the ticket has a rating.")] = None,
    rating: Annotated[int | None, Query(ge=1, le=5, description="A rating score.")] = None,
    created_after: Annotated[str | None, _TIME_FILTER] = None,
    created_before: Annotated[str | None, _TIME_FILTER] = None,
    updated_after: Annotated[str | None, _TIME_FILTER] = None,
    updated_before: Annotated[str | None, _TIME_FILTER] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1, max_length=500, description="Words in subject, comments or file names."
        ),
    ] = None,
    group: Annotated[
        str | None, Query(description="A group's key, `mine` (the caller's groups) or `none`.")
    ] = None,
    sla_breached: Annotated[
        bool | None, Query(description="Whether any SLA target of the ticket was breached.")
    ] = None,
    due_within: Annotated[
        int | None,
        Query(
            ge=0,
            le=525_600,
            description="Minutes: tickets with a running SLA clock due before now plus this "
            "(overdue ones included).",
        ),
    ] = None,
    following: Annotated[
        bool | None, Query(description="Whether the caller follows the ticket (staff).")
    ] = None,
    sort: Annotated[
        str,
        Query(
            pattern=SORT_PATTERN,
            description="One of "
            + ", ".join(f"`{s.value}`" for s in SortField if s != SortField.FIELD)
            + ", or `field.<key>`. `sla_due_at`: the soonest SLA due time first, listing only "
            "the tickets whose SLA clock runs. `field.<key>`: by a custom field's value, "
            "listing only the tickets that have one (not a multi-select).",
        ),
    ] = SortField.CREATED_AT.value,
    order: SortOrder = SortOrder.DESC,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    cursor: str | None = None,
) -> JSONResponse:
    filters = TicketListQuery(
        status=_given(status_),
        priority=_given(priority),
        type=_given(type_),
        access_level=_given(access_level),
        topic=topic,
        assignee=assignee,
        requester=requester,
        tag=tag,
        account=account,
        project=project,
        q=q,
        escalated=escalated,
        subtopic=subtopic,
        via=via,
        rated=rated,
        rating=rating,
        created_after=created_after,
        created_before=created_before,
        updated_after=updated_after,
        updated_before=updated_before,
        group=group,
        sla_breached=sla_breached,
        due_within=due_within,
        following=following,
        fields=field_filters_of(request),
    ).filters()
    sort_by, filters = sorted_by(sort, filters)
    found = await list_and_count_tickets(
        session,
        actor=principal,
        filters=filters,
        sort=sort_by,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    ranking = None
    if found.ranked is not None:
        ranking = Ranking(ranked=found.ranked, complete=found.ranked_every_match)
    staff = principal.is_staff
    return ModelJSONResponse(
        TicketPage(
            items=[
                listed_ticket_out(t, staff=staff, fields=from_gathered(t.field_rows, staff=staff))
                for t in found.items
            ],
            next_cursor=found.next_cursor,
            count=ListCount(value=found.count.value, exact=found.count.exact),
            ranking=ranking,
        )
    )


@router.get(
    "/tickets/{number}",
    response_model=TicketOut,
    summary="Get a ticket",
    responses={304: {"description": "Not modified: If-None-Match holds the current ETag."}},
)
async def get_ticket(
    number: TicketNumber,
    session: Session,
    principal: CurrentPrincipal,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    ticket = await service.show_ticket(session, actor=principal, number=number)
    staff = principal.is_staff
    etag = service.etag_for(ticket, staff=staff)
    if if_none_match and etag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]:
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    fields = from_gathered(ticket.field_rows, staff=staff)
    return ModelJSONResponse(
        listed_ticket_out(ticket, staff=staff, fields=fields),
        headers={"ETag": etag},
    )


@router.patch(
    "/tickets/{number}",
    response_model=TicketOut,
    summary="Change a ticket",
    responses=PRECONDITION_RESPONSES,
)
async def patch_ticket(
    number: TicketNumber,
    body: TicketUpdate,
    session: Session,
    principal: CurrentPrincipal,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    ticket = await service.update_ticket(
        session, actor=principal, number=number, changes=body, if_match=if_match
    )
    return await _answer(session, ticket, principal)


@router.post(
    "/tickets/{number}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    summary="Reply, or add an internal note",
)
async def create_comment(
    request: Request,
    number: TicketNumber,
    body: CommentCreate,
    session: Session,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    settings = get_settings(request)

    async def produce() -> tuple[CommentOut, dict[str, str]]:
        ticket, comment = await service.add_comment(
            session,
            actor=principal,
            number=number,
            body=body.body,
            body_format=body.body_format,
            internal=body.internal,
            file_ids=body.files,
            max_files=settings.max_files_per_comment,
            status=body.status,
        )
        return comment_out(comment, ticket_number=ticket.number, staff=principal.is_staff), {
            "Location": f"/api/v1/comments/{comment.id}"
        }

    return await respond_once(
        session,
        request=request,
        actor=principal,
        payload=body.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        produce=produce,
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )


@router.get("/tickets/{number}/comments", response_model=CommentPage, summary="The conversation")
async def get_comments(
    number: TicketNumber,
    session: Session,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
    cursor: str | None = None,
) -> CommentPage:
    ticket = await service.get_ticket(session, actor=principal, number=number)
    after_id = _after_id(cursor, maximum=MAX_INT32)
    rows, more = await comment_service.list_comments(
        session, actor=principal, ticket=ticket, after_id=after_id, limit=limit
    )
    return CommentPage(
        items=[comment_out(c, ticket_number=ticket.number, staff=principal.is_staff) for c in rows],
        next_cursor=encode_cursor({"after": rows[-1].id}) if more and rows else None,
    )


def _after_id(cursor: str | None, *, maximum: int) -> int | None:
    return None if cursor is None else cursor_id(cursor, key="after", maximum=maximum)


@router.get("/comments/{comment_id}", response_model=CommentOut, summary="Get a comment")
async def get_comment(
    comment_id: RowId, session: Session, principal: CurrentPrincipal
) -> CommentOut:
    comment = await comment_service.get_comment(session, actor=principal, comment_id=comment_id)
    ticket = await service.get_ticket_by_id(session, ticket_id=comment.ticket_id)
    return comment_out(comment, ticket_number=ticket.number, staff=principal.is_staff)


@router.post("/tickets/{number}/close", response_model=TicketOut, summary="Close a ticket")
async def close_ticket(
    number: TicketNumber, body: CloseRequest, session: Session, principal: CurrentPrincipal
) -> JSONResponse:
    ticket = await service.close_ticket(
        session, actor=principal, number=number, score=body.score, comment=body.comment
    )
    return await _answer(session, ticket, principal)


@router.post("/tickets/{number}/reopen", response_model=TicketOut, summary="Reopen a ticket")
async def reopen_ticket(
    request: Request,
    number: TicketNumber,
    body: ReopenRequest,
    session: Session,
    principal: CurrentPrincipal,
) -> JSONResponse:
    ticket = await service.reopen_ticket(
        session,
        actor=principal,
        number=number,
        body=body.body,
        body_format=body.body_format,
        file_ids=body.files,
        max_files=get_settings(request).max_files_per_comment,
    )
    return await _answer(session, ticket, principal)


@router.post("/tickets/{number}/escalate", response_model=TicketOut, summary="Escalate a ticket")
async def escalate_ticket(
    number: TicketNumber, session: Session, principal: CurrentPrincipal
) -> JSONResponse:
    ticket = await service.escalate_ticket(session, actor=principal, number=number)
    return await _answer(session, ticket, principal)


@router.post("/tickets/{number}/rating", response_model=TicketOut, summary="Rate a ticket (1..5)")
async def rate_ticket(
    number: TicketNumber,
    body: TicketRatingRequest,
    session: Session,
    principal: CurrentPrincipal,
) -> JSONResponse:
    ticket = await service.rate_ticket(
        session, actor=principal, number=number, score=body.score, comment=body.comment
    )
    return await _answer(session, ticket, principal)


@router.post("/tickets/{number}/read", response_model=TicketOut, summary="Mark a ticket read")
async def read_ticket(
    number: TicketNumber, session: Session, principal: CurrentPrincipal
) -> JSONResponse:
    ticket = await service.mark_read(session, actor=principal, number=number)
    return await _answer(session, ticket, principal)


@router.post(
    "/comments/{comment_id}/rating", response_model=CommentOut, summary="Rate a reply (+1 / -1)"
)
async def rate_comment(
    comment_id: RowId, body: CommentRatingRequest, session: Session, principal: CurrentPrincipal
) -> CommentOut:
    comment = await comment_service.rate_comment(
        session, actor=principal, comment_id=comment_id, score=body.score, comment_text=body.comment
    )
    ticket = await service.get_ticket_by_id(session, ticket_id=comment.ticket_id)
    return comment_out(comment, ticket_number=ticket.number, staff=principal.is_staff)


@router.get("/tickets/{number}/events", response_model=EventPage, summary="The timeline")
async def get_events(
    number: TicketNumber,
    session: Session,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    cursor: str | None = None,
) -> EventPage:
    ticket = await service.get_ticket(session, actor=principal, number=number)
    rows, more = await list_events(
        session,
        ticket=ticket,
        include_internal=principal.is_staff,
        after_id=_after_id(cursor, maximum=MAX_INT64),
        limit=limit,
    )
    return EventPage(
        items=[event_out(e, staff=principal.is_staff) for e in rows],
        next_cursor=encode_cursor({"after": rows[-1].id}) if more and rows else None,
    )


@router.post(
    "/tickets/{number}/merge",
    response_model=TicketOut,
    summary="Merge a ticket into another (staff)",
    description="Moves every comment of this ticket to the ticket `into` (of the same "
    "account), closes this one with a note saying where its conversation went, and hands "
    "its followers and CC addresses over. Answers this ticket, now `relations.merged_into`.",
)
async def merge_ticket(
    number: TicketNumber, body: MergeRequest, session: Session, principal: CurrentPrincipal
) -> JSONResponse:
    merged, _target = await moving.merge_ticket(
        session, actor=principal, number=number, into=body.into
    )
    return await _answer(session, merged, principal)


@router.post(
    "/tickets/{number}/split",
    status_code=status.HTTP_201_CREATED,
    response_model=TicketOut,
    summary="Split comments off into a new ticket (staff)",
    description="Moves the chosen comments to a new ticket with this one's requester, "
    "account, access and properties; the new ticket's `relations.split_from` names this one.",
)
async def split_ticket(
    request: Request,
    number: TicketNumber,
    body: SplitRequest,
    session: Session,
    principal: CurrentPrincipal,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> JSONResponse:
    async def produce() -> tuple[TicketOut, dict[str, str]]:
        _source, ticket = await moving.split_ticket(
            session,
            actor=principal,
            number=number,
            comment_ids=body.comment_ids,
            subject=body.subject,
        )
        return await _created(session, ticket, principal)

    return await respond_once(
        session,
        request=request,
        actor=principal,
        payload=body.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        produce=produce,
        ttl=timedelta(hours=get_settings(request).idempotency_ttl_hours),
    )


async def _followers_out(session: Session, ticket: Ticket) -> FollowersOut:
    rows = await followers.followers_of(session, ticket=ticket)
    return FollowersOut(
        followers=[_follower_out(row) for row in rows],
        cc=await cc_of(session, ticket=ticket),
    )


def _follower_out(row: TicketFollower) -> FollowerOut:
    return FollowerOut(
        username=row.user.username,
        real_name=row.user.real_name,
        added_by=row.added_by.username if row.added_by is not None else None,
        created_at=row.created_at,
    )


@router.get(
    "/tickets/{number}/followers",
    response_model=FollowersOut,
    summary="Who follows the ticket (staff), and its CC addresses",
)
async def list_followers(
    number: TicketNumber, session: Session, principal: CurrentPrincipal
) -> FollowersOut:
    followers.check_may_see(principal)
    ticket = await service.get_ticket(session, actor=principal, number=number)
    return await _followers_out(session, ticket)


@router.post(
    "/tickets/{number}/followers",
    response_model=FollowerOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": FollowerOut, "description": "They followed it already"}},
    summary="Follow a ticket, or make another member of staff follow it (staff)",
)
async def add_follower(
    number: TicketNumber, body: FollowRequest, session: Session, principal: CurrentPrincipal
) -> JSONResponse:
    followers.check_may_see(principal)
    ticket = await service.get_ticket(session, actor=principal, number=number, for_update=True)
    row, created = await followers.follow(
        session, actor=principal, ticket=ticket, username=body.username
    )
    out = _follower_out(row)
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@router.delete(
    "/tickets/{number}/followers/{username}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop following a ticket, or stop another member of staff following it (staff)",
)
async def remove_follower(
    number: TicketNumber,
    username: Annotated[str, Path(min_length=1, max_length=150)],
    session: Session,
    principal: CurrentPrincipal,
) -> Response:
    followers.check_may_see(principal)
    ticket = await service.get_ticket(session, actor=principal, number=number, for_update=True)
    await followers.unfollow(session, actor=principal, ticket=ticket, username=username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
