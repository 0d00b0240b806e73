"""The groups API: staff read, admins create, change and delete."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import AdminPrincipal, Session, StaffPrincipal
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.groups import service
from helpwire.groups.models import Group
from helpwire.groups.schemas import GroupCreate, GroupOut, GroupUpdate, MemberOut
from helpwire.tickets import groups as ticket_groups

router = APIRouter(prefix="/api/v1", tags=["groups"], responses=PROBLEM_RESPONSES)


def group_out(group: Group, *, open_tickets: int) -> GroupOut:
    return GroupOut(
        key=group.key,
        name=group.name,
        description=group.description,
        is_active=group.is_active,
        members=[
            MemberOut(username=m.username, real_name=m.real_name, available=m.available)
            for m in group.members
        ],
        open_tickets=open_tickets,
    )


@router.get("/groups", response_model=list[GroupOut], summary="Groups of staff (staff)")
async def list_groups(
    session: Session, _staff: StaffPrincipal, include_inactive: bool = False
) -> list[GroupOut]:
    groups = await service.list_groups(session, include_inactive=include_inactive)
    counts = await ticket_groups.open_counts_by_group(session)
    return [group_out(g, open_tickets=counts.get(g.id, 0)) for g in groups]


@router.post(
    "/groups",
    status_code=status.HTTP_201_CREATED,
    response_model=GroupOut,
    summary="Create a group (admin)",
)
async def create_group(
    request: Request,
    body: GroupCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[GroupOut, dict[str, str]]:
        group = await service.create_group(
            session,
            key=body.key,
            name=body.name,
            description=body.description,
            members=body.members,
        )
        return group_out(group, open_tickets=0), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/groups/{key}", response_model=GroupOut, summary="A group (staff)")
async def get_group(key: str, session: Session, _staff: StaffPrincipal) -> GroupOut:
    group = await service.get_group(session, key=key)
    counts = await ticket_groups.open_counts_by_group(session)
    return group_out(group, open_tickets=counts.get(group.id, 0))


@router.patch("/groups/{key}", response_model=GroupOut, summary="Change a group (admin)")
async def update_group(
    key: str, body: GroupUpdate, session: Session, _admin: AdminPrincipal
) -> GroupOut:
    group = await service.get_group(session, key=key)
    group = await service.update_group(
        session,
        group=group,
        name=body.name,
        description=body.description,
        is_active=body.is_active,
        members=body.members,
    )
    counts = await ticket_groups.open_counts_by_group(session)
    return group_out(group, open_tickets=counts.get(group.id, 0))


@router.delete(
    "/groups/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a group no ticket belongs to (admin)",
)
async def delete_group(key: str, session: Session, _admin: AdminPrincipal) -> Response:
    group = await service.get_group(session, key=key)
    await ticket_groups.delete_group(session, group=group)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
