"""Filing a ticket from the portal: the form, the page the customer came from and the
browser they use (kept without their typing it), and the guard against a double submit."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts.actor import Actor
from helpwire.accounts.memberships import nameable_projects
from helpwire.api.deps import Session, get_settings
from helpwire.api.idempotency import claim_key, fingerprint
from helpwire.api.metrics import count_ticket_created
from helpwire.api.routing import TransactionalRoute
from helpwire.db.idempotency import keep_answer, record_for_key
from helpwire.fields.models import CustomField
from helpwire.fields.schemas import MAX_TEXT_CHARS, MAX_VALUES_PER_REQUEST
from helpwire.fields.service import list_fields
from helpwire.fields.values import from_form
from helpwire.problems import Conflict, ValidationProblem
from helpwire.tickets import service
from helpwire.tickets.models import AccessLevel, BodyFormat, Priority, TicketType
from helpwire.tickets.schemas import ContextIn, TicketCreate
from helpwire.topics.service import list_topics
from helpwire.web.auth import CheckedForm, Web, WebContext
from helpwire.web.i18n import translate
from helpwire.web.languages import name_for
from helpwire.web.portal_forms import (
    ACCESS_LEVEL_LABELS,
    FIXABLE,
    customer_actor,
    field_messages,
    max_file_megabytes,
    request_id_of,
    validated,
)
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_files, form_text, store_form_files
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

# An account with more projects than this offers the first ones only on the form.
MAX_PROJECT_CHOICES = 500
MAX_LOCATION_CHARS = 2048  # ContextIn.location
MAX_USER_AGENT_CHARS = 1024  # ContextIn.user_agent
MAX_SUBMISSION_ID_CHARS = 64
# A custom field's inputs are named "fields.<key>", as the API's errors name the field.
FIELD_INPUT = "fields."
MAX_FIELD_NAME = len(FIELD_INPUT) + 64

# --- where the customer came from -----------------------------------------------------------


def _page_address(value: str | None) -> str | None:
    """An address worth keeping as "the page the customer came from": an absolute http(s)
    URL that fits its column. Anything else (a javascript: link, a bare word) is dropped
    rather than stored, because agents are shown it as a link."""
    if not value:
        return None
    value = value.strip()
    if len(value) > MAX_LOCATION_CHARS or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return value


def _is_our_page(request: Request, address: str) -> bool:
    ours = {
        request.headers.get("host", "").lower(),
        urlsplit(get_settings(request).base_url).netloc,
    }
    return urlsplit(address).netloc.lower() in {host.lower() for host in ours if host}


def _came_from(request: Request) -> str:
    """The application page that sent the customer here: its ``from`` parameter, or the
    Referer when that is not one of our own pages (a customer who clicked "New ticket" in
    the portal came from nowhere worth telling support)."""
    given = _page_address(request.query_params.get("from"))
    if given:
        return given
    referer = _page_address(request.headers.get("referer"))
    return referer if referer and not _is_our_page(request, referer) else ""


# --- Filing a ticket ------------------------------------------------------------------------


def _new_submission_id() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class TicketDraft:
    """What the customer typed into the new-ticket form, kept to show it again."""

    subject: str = ""
    body: str = ""
    type: str = TicketType.QUESTION.value
    priority: str = Priority.NORMAL.value
    topic: str = ""
    subtopic: str = ""
    access_level: str = AccessLevel.ACCOUNT_USERS.value
    projects: tuple[str, ...] = ()
    location: str = ""
    # Custom fields as typed: (key, the form's values for it), for those the form offers.
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # The form's one-time submission id: a second POST of the same form files nothing.
    submission: str = field(default_factory=_new_submission_id)

    @classmethod
    def from_form(cls, form: FormData) -> TicketDraft:
        submission = form_text(form, "submission_id").strip()
        return cls(
            subject=form_text(form, "subject"),
            body=form_text(form, "body"),
            type=form_text(form, "type", default=cls.type),
            priority=form_text(form, "priority", default=cls.priority),
            topic=form_text(form, "topic").strip(),
            subtopic=form_text(form, "subtopic").strip(),
            access_level=form_text(form, "access_level", default=cls.access_level),
            projects=tuple(p for p in form.getlist("projects") if isinstance(p, str) and p),
            location=_page_address(form_text(form, "location")) or "",
            fields=posted_fields(form),
            submission=submission if _is_submission_id(submission) else "",
        )

    def field_values(self, key: str) -> tuple[str, ...]:
        return next((given for name, given in self.fields if name == key), ())


def posted_fields(form: FormData) -> tuple[tuple[str, tuple[str, ...]], ...]:
    names = dict.fromkeys(
        name for name in form if name.startswith(FIELD_INPUT) and len(name) <= MAX_FIELD_NAME
    )
    return tuple(
        (
            name.removeprefix(FIELD_INPUT),
            tuple(v[:MAX_TEXT_CHARS] for v in form.getlist(name) if isinstance(v, str)),
        )
        for name in list(names)[:MAX_VALUES_PER_REQUEST]
    )


def _is_submission_id(value: str) -> bool:
    return 16 <= len(value) <= MAX_SUBMISSION_ID_CHARS and all(
        ch.isascii() and (ch.isalnum() or ch in "-_") for ch in value
    )


async def _topic_choices(request: Request, session: AsyncSession) -> list[dict[str, Any]]:
    return [
        {
            "key": topic.key,
            "name": name_for(request, topic),
            "subtopics": [
                {"key": sub.key, "name": name_for(request, sub)}
                for sub in topic.subtopics
                if sub.is_active
            ],
        }
        for topic in await list_topics(session)
    ]


async def offered_fields(session: AsyncSession, actor: Actor) -> list[CustomField]:
    return list(await list_fields(session, staff=actor.is_staff))


def field_choices(request: Request, fields: list[CustomField]) -> list[dict[str, Any]]:
    """The custom fields the form offers, with the topics that require each (named)."""
    return [
        {
            "key": f.key,
            "name": f.name,
            "description": f.description,
            "kind": f.kind,
            "options": f.options,
            "required": f.required,
            "required_for": [name_for(request, topic) for topic in f.required_topics],
            "staff_only": not f.visible_to_customers,
        }
        for f in fields
    ]


async def _new_ticket_page(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    *,
    draft: TicketDraft,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    settings = get_settings(request)
    return render(
        request,
        "portal/new.html",
        status_code=status_code,
        draft=draft,
        errors=dict(errors or {}),
        topics=await _topic_choices(request, session),
        custom_fields=field_choices(request, await offered_fields(session, web.actor)),
        # The projects the customer may name: the same rule the service applies on filing.
        projects=await nameable_projects(session, actor=web.actor, limit=MAX_PROJECT_CHOICES),
        types=[t.value for t in TicketType],
        priorities=[p.value for p in Priority],
        access_levels=ACCESS_LEVEL_LABELS,
        max_files=settings.max_files_per_comment,
        max_file_mb=max_file_megabytes(request),
    )


@router.get("/tickets/new")
async def new_ticket_form(request: Request, session: Session, web: Web) -> Response:
    if web.actor.is_staff:
        # Staff file for a customer in the console.
        return redirect("/agent/tickets/new")
    return await _new_ticket_page(
        request, session, web, draft=TicketDraft(location=_came_from(request))
    )


def field_values_of(offered: list[CustomField], draft: TicketDraft) -> dict[str, Any]:
    """The offered fields' values as the API takes them (fields.values.from_form); a field
    left empty is not given (an unticked checkbox is: false)."""
    found = {f.key: from_form(f, draft.field_values(f.key)) for f in offered}
    return {key: value for key, value in found.items() if value is not None and value != []}


def _ticket_create(
    request: Request, draft: TicketDraft, offered: list[CustomField]
) -> TicketCreate:
    user_agent = request.headers.get("user-agent", "")[:MAX_USER_AGENT_CHARS]
    return validated(
        TicketCreate,
        request,
        subject=draft.subject,
        body=draft.body,
        body_format=BodyFormat.MARKDOWN,
        type=draft.type,
        priority=draft.priority,
        topic=draft.topic or None,
        subtopic=draft.subtopic or None,
        access_level=draft.access_level,
        projects=list(draft.projects),
        context=ContextIn(user_agent=user_agent or None, location=draft.location or None),
        fields=field_values_of(offered, draft),
    )


# The double-submission guard keeps its records in the table of the API's Idempotency-Key
# (api/idempotency.py), with the same time to live and the same janitor. respond_once
# itself does not fit: it reads the key from a header and answers JSON, where this form
# carries a one-time submission id and answers with a redirect to the ticket filed. The
# claim is the same (api/idempotency.claim_key): the first POST inserts the key's row in
# the transaction that files the ticket; a repeat finds the row and is sent to that ticket
# instead of filing a second one.
_SUBMISSION_KEY = "web:new-ticket:"


async def _claim_submission(
    request: Request, session: AsyncSession, *, user_id: int, key: str
) -> int | None:
    """The id of the record claiming ``key`` for this POST, or None if an earlier POST
    claimed it."""
    return await claim_key(
        session,
        user_id=user_id,
        key=key,
        fingerprint=fingerprint(request, {"form": "new-ticket"}),
        ttl=timedelta(hours=get_settings(request).idempotency_ttl_hours),
    )


async def _earlier_ticket_page(session: AsyncSession, *, user_id: int, key: str) -> str:
    record = await record_for_key(session, user_id=user_id, key=key)
    location = (record.response or {}).get("location") if record is not None else None
    if not isinstance(location, str):
        raise Conflict("this form was sent already; open a new form to file another ticket")
    return location


async def _file_ticket_once(
    request: Request, session: AsyncSession, actor: Actor, draft: TicketDraft, form: FormData
) -> tuple[str, bool]:
    """(the page of the ticket, whether this POST filed it or an earlier one did)."""
    if not draft.submission:
        raise ValidationProblem.for_field(
            "form", "the form was incomplete; check it and send it again"
        )
    new = _ticket_create(request, draft, await offered_fields(session, actor))
    key = _SUBMISSION_KEY + draft.submission
    claimed = await _claim_submission(request, session, user_id=actor.user.id, key=key)
    if claimed is None:
        return await _earlier_ticket_page(session, user_id=actor.user.id, key=key), False
    settings = get_settings(request)
    file_ids = await store_form_files(request, session, actor=actor, uploads=form_files(form))
    ticket = await service.create_ticket(
        session,
        actor=actor,
        new=new.model_copy(update={"files": file_ids}),
        via="web",
        request_id=request_id_of(request),
        max_files=settings.max_files_per_comment,
    )
    location = f"/tickets/{ticket.number}"
    await keep_answer(session, record_id=claimed, status_code=303, response={"location": location})
    count_ticket_created(request, via="web")
    return location, True


@router.post("/tickets/new")
async def file_ticket(request: Request, session: Session, web: Web, form: CheckedForm) -> Response:
    actor = customer_actor(web)
    draft = TicketDraft.from_form(form)
    try:
        # A form with a mistake leaves nothing behind (no ticket number taken, no file
        # rows or bytes, no claimed submission), and the page is shown again.
        async with refusable(request, session):
            location, filed_now = await _file_ticket_once(request, session, actor, draft, form)
    except FIXABLE as problem:
        messages = field_messages(problem)
        if form_files(form) and "files" not in messages:
            messages["files"] = translate(
                request, "Choose the files again: a browser cannot keep them."
            )
        return await _new_ticket_page(
            request,
            session,
            web,
            draft=draft if draft.submission else replace(draft, submission=_new_submission_id()),
            errors=messages,
            status_code=problem.status,
        )
    number = location.rsplit("/", 1)[-1]
    if filed_now:
        notice = translate(
            request, "Ticket #%(number)s is filed. We will answer here.", number=number
        )
    else:
        notice = translate(
            request, "This form was sent already: it filed ticket #%(number)s.", number=number
        )
    return redirect(location, notice=notice)
