"""Bulk work in the console: the tickets ticked in the list, one change to all of them,
and what became of each, said on the list the agent comes back to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams

from helpwire.accounts.actor import Actor
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.bulk.schemas import MAX_BULK_TICKETS, BulkChange
from helpwire.bulk.service import TicketResult, change_tickets
from helpwire.groups.service import list_groups
from helpwire.problems import ValidationProblem
from helpwire.rules import macros
from helpwire.tickets.filter_spec import TicketFilter, filter_of
from helpwire.web.auth import CheckedForm, StaffWeb
from helpwire.web.console_list import read_list_request
from helpwire.web.i18n import translate
from helpwire.web.portal_forms import validated
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

# The form's value for "no one" and "no group" (empty leaves them as they are).
NOBODY = "-"
# How many refused tickets the notice names; it says how many more there were.
NAMED_REFUSALS = 3


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


async def bulk_choices(session: AsyncSession, *, actor: Actor) -> dict[str, list[Choice]]:
    """The groups and macros the bulk form offers (staff and statuses the list has)."""
    groups = await list_groups(session, include_inactive=False)
    usable = await macros.list_macros(session, actor=actor, q=None, limit=100)
    return {
        "groups": [Choice(g.key, g.name) for g in groups],
        "macros": [Choice(str(m.id), m.name) for m in usable],
    }


def _numbers(values: list[str]) -> list[int]:
    """The ticked ticket numbers (short ASCII digits only: int() would take "²")."""
    return [int(v) for v in values if v.isascii() and v.isdigit() and 0 < len(v) <= 18]


def _tags(raw: str) -> list[str]:
    return [tag for tag in re.split(r"[\s,]+", raw) if tag]


def _change(request: Request, form: Any) -> BulkChange:
    """The change the form asks for; blank fields are left as they are."""
    values: dict[str, Any] = {}
    for name in ("status", "priority"):
        if form_text(form, name):
            values[name] = form_text(form, name)
    for name in ("assignee", "group"):
        chosen = form_text(form, name)
        if chosen:
            values[name] = None if chosen == NOBODY else chosen
    for name in ("add_tags", "remove_tags"):
        if form_text(form, name).strip():
            values[name] = _tags(form_text(form, name))
    if form_text(form, "macro"):
        values["macro"] = form_text(form, "macro")
    return validated(BulkChange, request, **values)


def _list_address(raw: str) -> str:
    return "/agent?" + raw if raw and not raw.startswith(("/", "\\")) else "/agent"


def summary(request: Request, results: list[TicketResult]) -> str:
    """The notice: how many changed, and which were not and why (the first few)."""
    changed = sum(1 for r in results if r.problem is None)
    refused = [r for r in results if r.problem is not None]
    text = translate(
        request, "Changed %(changed)s of %(total)s tickets.", changed=changed, total=len(results)
    )
    if refused:
        named = "; ".join(
            f"#{r.number}: {r.problem.detail}" for r in refused[:NAMED_REFUSALS] if r.problem
        )
        more = len(refused) - NAMED_REFUSALS
        text += " " + (
            translate(
                request, "Not changed: %(tickets)s; and %(more)s more.", tickets=named, more=more
            )
            if more > 0
            else translate(request, "Not changed: %(tickets)s.", tickets=named)
        )
    return text


def _whole_list(raw: str) -> TicketFilter | None:
    """The filters of the list the form was sent from (None when they cannot be read)."""
    wanted = read_list_request(QueryParams(raw))
    if wanted.errors:
        return None
    try:
        return filter_of(wanted.filters)
    except PydanticValidationError:
        return None


@router.post("/agent/bulk")
async def bulk_change(
    request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    raw = form_text(form, "back")[:4000]
    back = _list_address(raw)
    numbers = _numbers(form.getlist("ticket"))  # type: ignore[arg-type]
    # "Every ticket of this list": the list's own filters, as the API's filter.
    whole_list = _whole_list(raw) if form_text(form, "scope") == "list" else None
    if form_text(form, "scope") == "list" and whole_list is None:
        return redirect(back, notice=translate(request, "Fix the list's filters first."))
    if whole_list is None and not numbers:
        return redirect(back, notice=translate(request, "Tick the tickets to change first."))
    if whole_list is None and len(numbers) > MAX_BULK_TICKETS:
        return redirect(
            back, notice=translate(request, "At most %(n)s tickets at once.", n=MAX_BULK_TICKETS)
        )
    try:
        results = await change_tickets(
            session,
            actor=web.actor,
            numbers=None if whole_list is not None else numbers,
            ticket_filter=whole_list,
            change=_change(request, form),
            mail=getattr(request.app.state, "mail", None),
        )
    except ValidationProblem as refused:
        # The change itself (nothing chosen, an unknown tag's spelling): no ticket changed.
        return redirect(
            back,
            notice=translate(request, "Nothing was changed: %(reason)s", reason=refused.detail),
        )
    return redirect(back, notice=summary(request, results))
