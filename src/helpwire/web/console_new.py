"""Filing a ticket for a customer from the console: a customer who phoned, wrote in a chat,
walked in or e-mailed someone directly. The agent finds the customer by name or e-mail,
says how they came, and files the ticket as theirs; the timeline records the agent as the
one who filed it. The same service and checks as the API's create with ``requester``."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.service import find_customers, find_user_for_login
from helpwire.api.deps import Session, get_settings
from helpwire.api.idempotency import claim_key, fingerprint
from helpwire.api.metrics import count_ticket_created
from helpwire.api.routing import TransactionalRoute
from helpwire.db.idempotency import keep_answer, record_for_key
from helpwire.problems import Conflict, ValidationProblem
from helpwire.tickets import service
from helpwire.tickets.models import BodyFormat, FiledVia, Priority, TicketType
from helpwire.tickets.schemas import TicketCreate
from helpwire.topics.service import list_topics
from helpwire.web.auth import CheckedForm, StaffWeb, WebContext
from helpwire.web.i18n import translate
from helpwire.web.portal_forms import FIXABLE, field_messages, request_id_of, validated
from helpwire.web.portal_new import (
    TicketDraft,
    field_choices,
    field_values_of,
    offered_fields,
    posted_fields,
)
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

MAX_SEARCH = 200
FORM_FIELDS = ("requester", "via", "subject", "body", "type", "priority", "topic", "submission")
# A double click, or a reload of the answer, must not file the ticket twice: each form
# carries a one-time id, claimed in the transaction that files the ticket (as the
# portal's form does, in the API's idempotency table).
_SUBMISSION_KEY = "web:staff-new-ticket:"
MAX_SUBMISSION_CHARS = 64


async def _page(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    *,
    values: dict[str, str],
    draft: TicketDraft | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    who = (request.query_params.get("who") or "").strip()[:MAX_SEARCH]
    found = await find_customers(session, text=who) if who else []
    return render(
        request,
        "console/new_ticket.html",
        status_code=status_code,
        who=who,
        found=found,
        values=values,
        # The custom fields (staff-only ones too) as the portal's form offers them, with
        # what was typed into them (``draft``).
        draft=draft or TicketDraft(),
        custom_fields=field_choices(request, await offered_fields(session, web.actor)),
        errors=errors or {},
        vias=[v.value for v in FiledVia],
        types=[t.value for t in TicketType],
        priorities=[p.value for p in Priority],
        topics=await list_topics(session),
    )


@router.get("/agent/tickets/new")
async def new_ticket_form(request: Request, session: Session, web: StaffWeb) -> HTMLResponse:
    """The form; ``who`` finds customers to file for, ``requester`` chooses one."""
    values = {name: "" for name in FORM_FIELDS}
    values |= {"via": FiledVia.PHONE.value, "type": "question", "priority": "normal"}
    values["submission"] = secrets.token_urlsafe(16)
    values["requester"] = (request.query_params.get("requester") or "").strip()[:MAX_SEARCH]
    return await _page(request, session, web, values=values)


async def _requester(request: Request, session: AsyncSession, text: str) -> str:
    """The username the form names, by user name or e-mail."""
    if not text:
        raise ValidationProblem.for_field(
            "requester", translate(request, "Choose the customer to file it for.")
        )
    user = await find_user_for_login(session, login=text)
    if user is None or not user.is_active:
        raise ValidationProblem.for_field(
            "requester", translate(request, "No active user “%(name)s”.", name=text[:80])
        )
    return user.username


def _ticket_create(
    request: Request,
    values: dict[str, str],
    requester: str,
    fields: dict[str, Any],
) -> TicketCreate:
    topic, _, subtopic = values["topic"].partition("/")
    given: dict[str, Any] = {
        "subject": values["subject"],
        "body": values["body"],
        "body_format": BodyFormat.MARKDOWN,
        "type": values["type"] or "question",
        "priority": values["priority"] or "normal",
        "topic": topic or None,
        "subtopic": subtopic or None,
        "requester": requester,
        "via": values["via"],
        "fields": fields,
    }
    return validated(TicketCreate, request, **given)


async def _file_once(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    values: dict[str, str],
    draft: TicketDraft,
) -> tuple[int, bool]:
    """(the ticket's number, whether this POST filed it or an earlier one did)."""
    submission = values["submission"]
    if not submission or len(submission) > MAX_SUBMISSION_CHARS:
        raise ValidationProblem.for_field(
            "form", translate(request, "The form was incomplete; send it again.")
        )
    requester = await _requester(request, session, values["requester"])
    fields = field_values_of(await offered_fields(session, web.actor), draft)
    new = _ticket_create(request, values, requester, fields)
    user_id, key = web.actor.user.id, _SUBMISSION_KEY + submission
    ttl = timedelta(hours=get_settings(request).idempotency_ttl_hours)
    claimed = await claim_key(
        session,
        user_id=user_id,
        key=key,
        fingerprint=fingerprint(request, {"form": "staff-new-ticket"}),
        ttl=ttl,
    )
    if claimed is None:
        record = await record_for_key(session, user_id=user_id, key=key)
        number = (record.response or {}).get("number") if record is not None else None
        if not isinstance(number, int):
            raise Conflict("this form was sent already; open a new form to file another ticket")
        return number, False
    ticket = await service.create_ticket(
        session,
        actor=web.actor,
        new=new,
        request_id=request_id_of(request),
        max_files=get_settings(request).max_files_per_comment,
    )
    await keep_answer(
        session, record_id=claimed, status_code=303, response={"number": ticket.number}
    )
    count_ticket_created(request, via=ticket.via)
    return ticket.number, True


@router.post("/agent/tickets/new")
async def file_ticket(
    request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    values = {name: form_text(form, name).strip() for name in FORM_FIELDS}
    values["body"] = form_text(form, "body")
    draft = TicketDraft(fields=posted_fields(form))
    try:
        async with refusable(request, session):
            number, filed_now = await _file_once(request, session, web, values, draft)
    except FIXABLE as problem:
        return await _page(
            request,
            session,
            web,
            values=values,
            draft=draft,
            errors=field_messages(problem),
            status_code=problem.status,
        )
    if not filed_now:
        return redirect(
            f"/agent/tickets/{number}",
            notice=translate(
                request, "This form was sent already: it filed #%(number)s.", number=number
            ),
        )
    return redirect(
        f"/agent/tickets/{number}",
        notice=translate(request, "Ticket #%(number)s is filed.", number=number),
    )
