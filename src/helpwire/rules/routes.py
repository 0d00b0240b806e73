"""The triggers, automations and macros API, and applying a macro to a ticket."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import AdminPrincipal, Session, StaffPrincipal
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import RowId, TicketNumber
from helpwire.db.base import utcnow
from helpwire.mail.config import MailConfig
from helpwire.rules import macros, service
from helpwire.rules.models import Automation, Macro, Trigger
from helpwire.rules.running import dry_run
from helpwire.rules.schemas import (
    AutomationCreate,
    AutomationOut,
    AutomationUpdate,
    DryRun,
    MacroApplied,
    MacroCreate,
    MacroOut,
    MacroUpdate,
    TriggerCreate,
    TriggerOut,
    TriggerUpdate,
)
from helpwire.tickets import field_values
from helpwire.tickets.serialize import comment_out, ticket_out

router = APIRouter(prefix="/api/v1", tags=["rules"], responses=PROBLEM_RESPONSES)


def trigger_out(rule: Trigger) -> TriggerOut:
    return TriggerOut.model_validate(rule, from_attributes=True)


def automation_out(rule: Automation) -> AutomationOut:
    return AutomationOut.model_validate(rule, from_attributes=True)


def _given(body: Any) -> dict[str, Any]:
    return {name: getattr(body, name) for name in body.model_fields_set}


# --- triggers ------------------------------------------------------------------------


@router.get("/triggers", response_model=list[TriggerOut], summary="Triggers, in order (staff)")
async def list_triggers(session: Session, _staff: StaffPrincipal) -> list[TriggerOut]:
    return [trigger_out(t) for t in await service.list_rules(session, Trigger)]


@router.post(
    "/triggers",
    status_code=status.HTTP_201_CREATED,
    response_model=TriggerOut,
    summary="Create a trigger (admin)",
)
async def create_trigger(
    request: Request,
    body: TriggerCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[TriggerOut, dict[str, str]]:
        rule = await service.create_rule(session, Trigger, values=body.model_dump())
        return trigger_out(rule), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/triggers/{rule_id}", response_model=TriggerOut, summary="A trigger (staff)")
async def get_trigger(rule_id: RowId, session: Session, _staff: StaffPrincipal) -> TriggerOut:
    return trigger_out(await service.get_rule(session, Trigger, rule_id=rule_id))


@router.patch("/triggers/{rule_id}", response_model=TriggerOut, summary="Change a trigger (admin)")
async def update_trigger(
    rule_id: RowId, body: TriggerUpdate, session: Session, _admin: AdminPrincipal
) -> TriggerOut:
    rule = await service.get_rule(session, Trigger, rule_id=rule_id)
    return trigger_out(await service.update_rule(session, rule, values=_given(body)))


@router.delete(
    "/triggers/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a trigger (admin)",
)
async def delete_trigger(rule_id: RowId, session: Session, _admin: AdminPrincipal) -> Response:
    await service.delete_rule(session, await service.get_rule(session, Trigger, rule_id=rule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/triggers/{rule_id}/dry-run",
    response_model=DryRun,
    summary="Which tickets not closed meet the trigger's conditions now (changes nothing)",
)
async def dry_run_trigger(rule_id: RowId, session: Session, _staff: StaffPrincipal) -> DryRun:
    rule = await service.get_rule(session, Trigger, rule_id=rule_id)
    numbers, checked = await dry_run(session, rule=rule, now=utcnow())
    return DryRun(tickets=numbers, checked=checked)


# --- automations ---------------------------------------------------------------------


@router.get("/automations", response_model=list[AutomationOut], summary="Automations (staff)")
async def list_automations(session: Session, _staff: StaffPrincipal) -> list[AutomationOut]:
    return [automation_out(a) for a in await service.list_rules(session, Automation)]


@router.post(
    "/automations",
    status_code=status.HTTP_201_CREATED,
    response_model=AutomationOut,
    summary="Create an automation (admin)",
)
async def create_automation(
    request: Request,
    body: AutomationCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[AutomationOut, dict[str, str]]:
        rule = await service.create_rule(session, Automation, values=body.model_dump())
        return automation_out(rule), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.get("/automations/{rule_id}", response_model=AutomationOut, summary="An automation")
async def get_automation(rule_id: RowId, session: Session, _staff: StaffPrincipal) -> AutomationOut:
    return automation_out(await service.get_rule(session, Automation, rule_id=rule_id))


@router.patch(
    "/automations/{rule_id}", response_model=AutomationOut, summary="Change an automation (admin)"
)
async def update_automation(
    rule_id: RowId, body: AutomationUpdate, session: Session, _admin: AdminPrincipal
) -> AutomationOut:
    rule = await service.get_rule(session, Automation, rule_id=rule_id)
    return automation_out(await service.update_rule(session, rule, values=_given(body)))


@router.delete(
    "/automations/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an automation (admin)",
)
async def delete_automation(rule_id: RowId, session: Session, _admin: AdminPrincipal) -> Response:
    await service.delete_rule(session, await service.get_rule(session, Automation, rule_id=rule_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/automations/{rule_id}/dry-run",
    response_model=DryRun,
    summary="Which tickets the automation would act on now (changes nothing)",
)
async def dry_run_automation(rule_id: RowId, session: Session, _staff: StaffPrincipal) -> DryRun:
    rule = await service.get_rule(session, Automation, rule_id=rule_id)
    numbers, checked = await dry_run(session, rule=rule, now=utcnow())
    return DryRun(tickets=numbers, checked=checked)


# --- macros --------------------------------------------------------------------------


def macro_out(macro: Macro, owner: str | None) -> MacroOut:
    return MacroOut(
        id=macro.id,
        name=macro.name,
        body=macro.body,
        body_format=macro.body_format,
        internal=macro.internal,
        actions=macro.actions,
        shared=macro.owner_id is None,
        owner=owner,
        created_at=macro.created_at,
        updated_at=macro.updated_at,
    )


def _owner(macro: Macro, principal: StaffPrincipal) -> str | None:
    return None if macro.owner_id is None else principal.user.username


@router.get("/macros", response_model=list[MacroOut], summary="Shared macros and your own")
async def list_macros(
    session: Session,
    principal: StaffPrincipal,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in the name or text.")
    ] = None,
) -> list[MacroOut]:
    found = await macros.list_macros(session, actor=principal, q=q)
    return [macro_out(m, _owner(m, principal)) for m in found]


@router.post(
    "/macros",
    status_code=status.HTTP_201_CREATED,
    response_model=MacroOut,
    summary="Create a macro (yours; shared: admin)",
)
async def create_macro(
    request: Request,
    body: MacroCreate,
    session: Session,
    principal: StaffPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[MacroOut, dict[str, str]]:
        macro = await macros.create_macro(session, actor=principal, values=body.model_dump())
        return macro_out(macro, _owner(macro, principal)), {}

    return await create_once(session, request=request, actor=principal, body=body, produce=produce)


@router.get("/macros/{macro_id}", response_model=MacroOut, summary="A macro")
async def get_macro(macro_id: RowId, session: Session, principal: StaffPrincipal) -> MacroOut:
    macro = await macros.get_macro(session, actor=principal, macro_id=macro_id)
    return macro_out(macro, _owner(macro, principal))


@router.patch(
    "/macros/{macro_id}", response_model=MacroOut, summary="Change a macro (yours; shared: admin)"
)
async def update_macro(
    macro_id: RowId, body: MacroUpdate, session: Session, principal: StaffPrincipal
) -> MacroOut:
    macro = await macros.get_macro(session, actor=principal, macro_id=macro_id)
    macro = await macros.update_macro(session, actor=principal, macro=macro, values=_given(body))
    return macro_out(macro, _owner(macro, principal))


@router.delete(
    "/macros/{macro_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a macro (yours; shared: admin)",
)
async def delete_macro(macro_id: RowId, session: Session, principal: StaffPrincipal) -> Response:
    macro = await macros.get_macro(session, actor=principal, macro_id=macro_id)
    await macros.delete_macro(session, actor=principal, macro=macro)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/tickets/{number}/macros/{macro_id}",
    response_model=MacroApplied,
    summary="Apply a macro to a ticket (with ?preview=true: show what it would do)",
)
async def apply_macro(
    request: Request,
    number: TicketNumber,
    macro_id: RowId,
    session: Session,
    principal: StaffPrincipal,
    preview: bool = False,
) -> MacroApplied:
    mail: MailConfig | None = getattr(request.app.state, "mail", None)
    applied = await macros.apply_macro(
        session, actor=principal, number=number, macro_id=macro_id, preview=preview, mail=mail
    )
    values = await field_values.values_for(session, ticket_ids=[applied.ticket.id], staff=True)
    return MacroApplied(
        preview=preview,
        body=applied.body,
        internal=applied.internal,
        changes=applied.changes,
        ticket=ticket_out(applied.ticket, staff=True, fields=values.get(applied.ticket.id, {})),
        comment=(
            comment_out(applied.comment, ticket_number=applied.ticket.number, staff=True)
            if applied.comment is not None
            else None
        ),
    )
