"""The calendars and SLA policies API: staff read, admins write."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import AdminPrincipal, Session, StaffPrincipal
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import RowId
from helpwire.sla import admin
from helpwire.sla.models import Calendar
from helpwire.sla.schemas import (
    CalendarCreate,
    CalendarOut,
    CalendarUpdate,
    PolicyCreate,
    PolicyOut,
    PolicyUpdate,
)

router = APIRouter(prefix="/api/v1", tags=["service levels"], responses=PROBLEM_RESPONSES)


def calendar_out(calendar: Calendar) -> CalendarOut:
    return CalendarOut(
        key=calendar.key,
        name=calendar.name,
        time_zone=calendar.time_zone,
        windows=calendar.windows,
        holiday_country=calendar.holiday_country,
        holiday_subdivision=calendar.holiday_subdivision,
        custom_holidays=list(calendar.custom_holidays or []),
        created_at=calendar.created_at,
        updated_at=calendar.updated_at,
    )


def _given(body: Any) -> dict[str, Any]:
    return {name: getattr(body, name) for name in body.model_fields_set}


@router.get("/calendars", response_model=list[CalendarOut], summary="Business-hours calendars")
async def list_calendars(session: Session, _staff: StaffPrincipal) -> list[CalendarOut]:
    return [calendar_out(c) for c in await admin.list_calendars(session)]


@router.post(
    "/calendars",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarOut,
    summary="Create a calendar (admin)",
)
async def create_calendar(
    request: Request,
    body: CalendarCreate,
    session: Session,
    principal: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[CalendarOut, dict[str, str]]:
        values = body.model_dump(exclude={"key"})
        calendar = await admin.create_calendar(session, key=body.key, values=values)
        return calendar_out(calendar), {}

    return await create_once(session, request=request, actor=principal, body=body, produce=produce)


@router.get("/calendars/{key}", response_model=CalendarOut, summary="A calendar")
async def get_calendar(key: str, session: Session, _staff: StaffPrincipal) -> CalendarOut:
    return calendar_out(await admin.get_calendar(session, key=key))


@router.patch("/calendars/{key}", response_model=CalendarOut, summary="Change a calendar (admin)")
async def update_calendar(
    key: str, body: CalendarUpdate, session: Session, _admin: AdminPrincipal
) -> CalendarOut:
    calendar = await admin.get_calendar(session, key=key)
    calendar = await admin.update_calendar(session, calendar=calendar, values=_given(body))
    return calendar_out(calendar)


@router.delete(
    "/calendars/{key}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a calendar no policy uses (admin)",
)
async def delete_calendar(key: str, session: Session, _admin: AdminPrincipal) -> Response:
    calendar = await admin.get_calendar(session, key=key)
    await admin.delete_calendar(session, calendar=calendar)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/sla-policies", response_model=list[PolicyOut], summary="SLA policies, in order")
async def list_policies(session: Session, _staff: StaffPrincipal) -> list[PolicyOut]:
    return [
        PolicyOut.model_validate(await admin.policy_view(session, p))
        for p in await admin.list_policies(session)
    ]


@router.post(
    "/sla-policies",
    status_code=status.HTTP_201_CREATED,
    response_model=PolicyOut,
    summary="Create an SLA policy (admin)",
)
async def create_policy(
    request: Request,
    body: PolicyCreate,
    session: Session,
    principal: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[PolicyOut, dict[str, str]]:
        values = body.model_dump(exclude_none=True)
        policy = await admin.create_policy(session, values=values)
        return PolicyOut.model_validate(await admin.policy_view(session, policy)), {}

    return await create_once(session, request=request, actor=principal, body=body, produce=produce)


@router.get("/sla-policies/{policy_id}", response_model=PolicyOut, summary="An SLA policy")
async def get_policy(policy_id: RowId, session: Session, _staff: StaffPrincipal) -> PolicyOut:
    policy = await admin.get_policy(session, policy_id=policy_id)
    return PolicyOut.model_validate(await admin.policy_view(session, policy))


@router.patch(
    "/sla-policies/{policy_id}", response_model=PolicyOut, summary="Change an SLA policy (admin)"
)
async def update_policy(
    policy_id: RowId, body: PolicyUpdate, session: Session, _admin: AdminPrincipal
) -> PolicyOut:
    policy = await admin.get_policy(session, policy_id=policy_id)
    values = {
        name: value.model_dump(exclude_none=True) if hasattr(value, "model_dump") else value
        for name, value in _given(body).items()
    }
    policy = await admin.update_policy(session, policy=policy, values=values)
    return PolicyOut.model_validate(await admin.policy_view(session, policy))


@router.delete(
    "/sla-policies/{policy_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an SLA policy (admin)",
)
async def delete_policy(policy_id: RowId, session: Session, _admin: AdminPrincipal) -> Response:
    policy = await admin.get_policy(session, policy_id=policy_id)
    await admin.delete_policy(session, policy=policy)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
