"""The custom fields API: admins define fields, staff read them all, customers read those
shown to customers."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import AdminPrincipal, CurrentPrincipal, Session
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.fields import service
from helpwire.fields.models import CustomField, FieldKind
from helpwire.fields.schemas import FieldCreate, FieldOut, FieldUpdate

router = APIRouter(prefix="/api/v1", tags=["fields"], responses=PROBLEM_RESPONSES)


def field_out(field: CustomField) -> FieldOut:
    return FieldOut(
        key=field.key,
        name=field.name,
        description=field.description,
        kind=FieldKind(field.kind),
        options=list(field.options),
        visible_to_customers=field.visible_to_customers,
        required=field.required,
        required_topics=[t.key for t in field.required_topics],
        position=field.position,
        is_active=field.is_active,
        created_at=field.created_at,
        updated_at=field.updated_at,
    )


@router.get(
    "/fields",
    response_model=list[FieldOut],
    summary="Custom fields (staff: all; customers: those shown to them)",
)
async def list_fields(
    session: Session, principal: CurrentPrincipal, include_inactive: bool = False
) -> list[FieldOut]:
    fields = await service.list_fields(
        session, staff=principal.is_staff, include_inactive=include_inactive
    )
    return [field_out(f) for f in fields]


@router.post(
    "/fields",
    status_code=status.HTTP_201_CREATED,
    response_model=FieldOut,
    summary="Define a custom field (admin)",
)
async def create_field(
    request: Request,
    body: FieldCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[FieldOut, dict[str, str]]:
        field = await service.create_field(session, new=body)
        return field_out(field), {"Location": f"/api/v1/fields/{field.key}"}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/fields/{key}", response_model=FieldOut, summary="A custom field")
async def get_field(key: str, session: Session, principal: CurrentPrincipal) -> FieldOut:
    return field_out(await service.get_field(session, key=key, staff=principal.is_staff))


@router.patch("/fields/{key}", response_model=FieldOut, summary="Change a custom field (admin)")
async def update_field(
    key: str, body: FieldUpdate, session: Session, _admin: AdminPrincipal
) -> FieldOut:
    field = await service.get_field(session, key=key, staff=True)
    return field_out(await service.update_field(session, field=field, changes=body))
