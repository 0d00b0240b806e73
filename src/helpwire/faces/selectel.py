"""The Selectel face: Selectel's Tickets API v1 (tickets, comments, topics; seed 002).

Selectel does not publish the paths of the v1 calls, only their shapes; helpwire serves
them under ``/selectel/tickets`` (where a client had ``https://api.selectel.ru/tickets``)
as ``/v1/tickets``, ``/v1/tickets/{ticket_number}[/close|/reopen|/vote|/comments]``,
``/v1/comments/{comment_id}[/vote]`` and ``/v1/topics``. The token is a helpwire API
token sent as ``X-Token`` (Selectel's static token) or ``X-Auth-Token`` (its IAM token).
The seed shows no error body; errors are ``{"error": {"code", "title", "message"}}``
(plus ``fields`` for refused fields), 400 for anything invalid. See docs/faces.md.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from http import HTTPStatus
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.api.deps import Session, resolve_caller
from helpwire.api.metrics import count_ticket_created
from helpwire.api.types import Int32, RowId, TicketNumber
from helpwire.faces.common import (
    Face,
    error_translator,
    json_error,
    problem_headers,
    translating_route,
)
from helpwire.faces.payloads import NUL_MESSAGE, BodyError, nul_field, parse_json
from helpwire.problems import (
    MalformedRequest,
    Problem,
    Unauthenticated,
    ValidationProblem,
    field_error,
)
from helpwire.tickets import comments as comment_service
from helpwire.tickets import service
from helpwire.tickets.limits import enforce_comment_rate, enforce_ticket_rate
from helpwire.tickets.list_query import TicketListQuery
from helpwire.tickets.listing import SortOrder
from helpwire.tickets.models import AccessLevel, Comment, Status, Ticket
from helpwire.tickets.paging import PageSort, TicketPageRequest, ticket_page
from helpwire.tickets.schemas import TicketCreate, TicketUpdate
from helpwire.topics.models import Topic
from helpwire.topics.service import list_topics

NAME = "selectel"
PREFIX = "/selectel/tickets"
V1 = PREFIX + "/v1"
TICKETS = V1 + "/tickets"
TOKEN_HEADERS = ("X-Token", "X-Auth-Token")

# Selectel's published limits.
TICKETS_PER_MINUTE = 2
COMMENTS_PER_MINUTE = 60
MAX_FILES = 10
MINUTE = timedelta(minutes=1)
COMMENT_PAGE = 200

# helpwire status -> (status_key, English name, Russian name). The seed pairs the key
# "in_progress" with the name "Open"; the other keys are helpwire's guesses.
STATUSES: dict[Status, tuple[str, str, str]] = {
    Status.NEW: ("in_progress", "Open", "Открыт"),
    Status.OPEN: ("in_progress", "Open", "Открыт"),
    Status.PENDING: ("awaiting_client", "Awaiting your reply", "Ожидает вашего ответа"),
    Status.HOLD: ("on_hold", "On hold", "Отложен"),
    Status.SOLVED: ("resolved", "Resolved", "Решён"),
    Status.CLOSED: ("closed", "Closed", "Закрыт"),
}

# Core field names as a Selectel client knows them.
_FIELD_NAMES = {
    "subject": "summary",
    "projects": "keystone_projects",
    "topic": "topic_key",
    "subtopic": "topic_key",
    "per_page": "items_per_page",
}


# --- errors ------------------------------------------------------------------------------


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _error(
    status: int,
    message: str,
    *,
    fields: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": status, "title": _title(status), "message": message}
    if fields:
        error["fields"] = fields
    return json_error({"error": error}, status, headers)


def render_error(status: int, message: str) -> Response:
    """Selectel has no 422: what helpwire finds unprocessable is a 400 here."""
    return _error(400 if status == 422 else status, message)


def _field_name(request: Request, field: str) -> str:
    head, dot, rest = field.partition(".")
    if head == "body" and request.method == "POST" and request.url.path.rstrip("/") == TICKETS:
        return "comment_body" + dot + rest
    return _FIELD_NAMES.get(head, head) + dot + rest


def _answer_problem(request: Request, problem: Problem) -> Response:
    headers = problem_headers(problem)
    if problem.status in (400, 422):
        fields = [
            {"field": _field_name(request, str(e.get("field", ""))), "message": str(e["message"])}
            for e in problem.errors
            if "message" in e
        ]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields) or problem.detail
        return _error(400, message, fields=fields, headers=headers)
    return _error(problem.status, problem.detail, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    name = ""
    for part in parts:
        name += f"[{part}]" if part.isdigit() else ("." if name else "") + part
    return name or "body"


def _validation_error(errors: list[Any]) -> ValidationProblem:
    problems = [
        field_error(_location(tuple(e.get("loc", ()))), str(e.get("msg", "invalid")))
        for e in errors
    ]
    return ValidationProblem("the request is not valid", errors=problems)


def _answer_invalid(request: Request, exc: RequestValidationError) -> Response:
    return _answer_problem(request, _validation_error(list(exc.errors())))


_translate = error_translator(invalid=_answer_invalid, problem=_answer_problem)


router = APIRouter(tags=["faces: Selectel"], route_class=translating_route(_translate))


# --- requests ------------------------------------------------------------------------------

NonEmpty = Annotated[str, StringConstraints(min_length=1)]
CommentBody = Annotated[str, StringConstraints(min_length=1, max_length=50_000)]
Files = Annotated[list[uuid.UUID], Field(min_length=1, max_length=MAX_FILES)]
KeystoneProjects = Annotated[list[NonEmpty], Field(min_length=1, max_length=1)]


M = TypeVar("M", bound=BaseModel)


class _In(BaseModel):
    # Selectel's clients may send fields of newer versions: they are ignored.
    model_config = ConfigDict(extra="ignore")


class CreateIn(_In):
    files: Files | None = None
    comment_body: CommentBody
    summary: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    topic_key: NonEmpty | None = None
    notice_id: Int32 | None = None
    access_level: AccessLevel | None = None
    keystone_projects: KeystoneProjects | None = None


class UpdateIn(_In):
    access_level: AccessLevel | None = None
    keystone_projects: KeystoneProjects | None = None


class CloseIn(_In):
    comment: NonEmpty | None = None
    score: Annotated[int, Field(ge=1, le=5)] | None = None


class ReopenIn(_In):
    files: Files | None = None
    body: CommentBody


class RateTicketIn(_In):
    comment: NonEmpty | None = None
    # The seed allows 1..10 but rates "on a five-point scale" elsewhere; helpwire's
    # ratings are 1..5.
    score: Annotated[int, Field(ge=1, le=5)]


class CommentIn(_In):
    files: Files | None = None
    body: CommentBody


class RateCommentIn(_In):
    comment: NonEmpty | None = None
    score: Literal[1, -1]


async def _read(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        document: Any = parse_json(raw) if raw.strip() else {}
    except BodyError as exc:
        raise MalformedRequest(f"the body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise MalformedRequest("the body must be a JSON object")
    where = nul_field(document)
    if where is not None:
        raise ValidationProblem.for_field(where, NUL_MESSAGE, "nul_character")
    try:
        return model.model_validate(document)
    except ValidationError as exc:
        raise _validation_error(list(exc.errors())) from None


def _file_ids(files: list[uuid.UUID] | None) -> list[str]:
    return [str(f) for f in files or []]


async def _caller(request: Request, session: AsyncSession) -> Actor:
    token = None
    for header in TOKEN_HEADERS:
        value = (request.headers.get(header) or "").strip()
        if value:
            token = value
            break
    if token is None:
        raise Unauthenticated("send an API token in the X-Token header")
    return await resolve_caller(request, session, token=token)


# --- answers -------------------------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _vote(score: int | None, comment: str | None, at: datetime | None) -> dict[str, Any] | None:
    if score is None:
        return None
    return {"comment": comment, "created_at": _time(at), "score": score}


def _notice_id(ticket: Ticket) -> int | None:
    kept = (ticket.attributes or {}).get(NAME)
    value = kept.get("notice_id") if isinstance(kept, dict) else None
    return value if isinstance(value, int) else None


def ticket_json(ticket: Ticket) -> dict[str, Any]:
    status = Status(ticket.status)
    key, english, russian = STATUSES[status]
    customer_read, _agent_read = service.read_state(ticket)
    return {
        "closed_at": _time(ticket.closed_at),
        "created_at": _time(ticket.created_at),
        "is_client_author": not ticket.requester.is_staff,
        "is_client_read": customer_read,
        "is_closed": status == Status.CLOSED,
        "is_resolved": status in (Status.SOLVED, Status.CLOSED),
        "number": ticket.number,
        "status": {"en": english, "ru": russian},
        "status_key": key,
        "summary": ticket.subject,
        "updated_at": _time(ticket.updated_at),
        "vote": _vote(ticket.rating_score, ticket.rating_comment, ticket.rated_at),
        "access_level": ticket.access_level,
        "keystone_projects": [p.key for p in ticket.projects],
        "notice_id": _notice_id(ticket),
        "splitted_from_ticket_number": ticket.split_from.number if ticket.split_from else None,
    }


def comment_json(comment: Comment, ticket: Ticket) -> dict[str, Any]:
    author = comment.author
    by_client = not author.is_staff
    read = ticket.customer_read_at
    # A comment split off into this ticket (tickets.moving), which it went to as the ticket
    # was made; not one merged in later from the same ticket.
    split_off = (
        ticket.split_from is not None
        and comment.moved_from_number == ticket.split_from.number
        and comment.moved_at == ticket.created_at
    )
    return {
        "files": [f.id for f in comment.files],
        "body": comment.body,
        "id": comment.id,
        "is_client_author": by_client,
        "is_client_read": by_client or (read is not None and read >= comment.created_at),
        "sent_at": _time(comment.created_at),
        "splitted_at": _time(comment.moved_at) if split_off else None,
        "splitted_to_ticket_number": ticket.number if split_off else None,
        "vote": _vote(comment.rating_score, comment.rating_comment, comment.rated_at),
        "ticket_number": ticket.number,
        "client_author_id": author.username if by_client else None,
        "admin_author": None if by_client else {"name": author.real_name or author.username},
    }


def _names(names: dict[str, str]) -> dict[str, str]:
    english = names.get("en", "")
    return {"en": english, "ru": names.get("ru") or english}


def topic_json(topic: Topic) -> dict[str, Any]:
    return {
        "key": topic.key,
        "names": _names(topic.names),
        "subtopics": [
            {"key": s.key, "names": _names(s.names)} for s in topic.subtopics if s.is_active
        ],
    }


# --- OpenAPI -------------------------------------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "title", "message"],
            "properties": {
                "code": {"type": "integer"},
                "title": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                },
            },
        }
    },
}


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    answers: dict[int | str, dict[str, Any]] = {
        status: {
            "description": _title(status),
            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
        }
        # Every route may be rate-limited (429), meet a database outage (503), or be sent
        # a body over the limit (413, before the route reads it).
        for status in sorted({400, 401, 413, 429, 503, *statuses})
    }
    return answers


def _inlined(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema with its local ``$defs`` references replaced by what they name: in the
    OpenAPI document a ``#/$defs/...`` reference would point nowhere."""
    if isinstance(node, list):
        return [_inlined(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        return _inlined(definitions[reference.removeprefix("#/$defs/")], definitions)
    return {k: _inlined(v, definitions) for k, v in node.items() if k != "$defs"}


def _body(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _inlined(schema, schema.get("$defs", {}))}},
        }
    }


# --- tickets -------------------------------------------------------------------------------


async def _topic_keys(session: AsyncSession, key: str | None) -> tuple[str | None, str | None]:
    """A topic_key names a topic, or (as the topics list offers them) one of its
    subtopics; an unknown key goes to the core as a topic, which refuses it."""
    if key is None:
        return None, None
    topics = await list_topics(session)
    if any(t.key == key for t in topics):
        return key, None
    owners = [t for t in topics for s in t.subtopics if s.key == key and s.is_active]
    if len(owners) == 1:
        return owners[0].key, key
    return key, None


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return str(value) if value else None


@router.post(
    TICKETS,
    summary="Selectel: create a ticket",
    responses=_errors(404, 429),
    openapi_extra=_body(CreateIn),
)
async def create_ticket(request: Request, session: Session) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, CreateIn)
    topic, subtopic = await _topic_keys(session, wanted.topic_key)
    new: dict[str, Any] = {
        "subject": wanted.summary,
        "body": wanted.comment_body,
        "topic": topic,
        "subtopic": subtopic,
        "files": _file_ids(wanted.files),
        "projects": wanted.keystone_projects or [],
        "context": {"user_agent": (request.headers.get("user-agent") or "")[:1024] or None},
    }
    if wanted.access_level is not None:
        new["access_level"] = wanted.access_level
    if wanted.notice_id is not None:
        new["attributes"] = {NAME: {"notice_id": wanted.notice_id}}
    try:
        ticket_new = TicketCreate.model_validate(new)
    except ValidationError as exc:
        raise _validation_error(list(exc.errors())) from None
    await enforce_ticket_rate(
        session, user=principal.user, limit=TICKETS_PER_MINUTE, window=MINUTE, via=NAME
    )
    ticket = await service.create_ticket(
        session,
        actor=principal,
        new=ticket_new,
        via=NAME,
        request_id=_request_id(request),
        max_files=MAX_FILES,
    )
    count_ticket_created(request, via=NAME)
    return JSONResponse(ticket_json(ticket))


class SortBy(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NUMBER = "number"
    SUMMARY = "summary"
    STATUS = "status"


_SORTS = {
    SortBy.CREATED_AT: PageSort.CREATED_AT,
    SortBy.UPDATED_AT: PageSort.UPDATED_AT,
    SortBy.NUMBER: PageSort.NUMBER,
    SortBy.SUMMARY: PageSort.SUBJECT,
    SortBy.STATUS: PageSort.STATUS,
}


@router.get(TICKETS, summary="Selectel: list tickets", responses=_errors())
async def get_tickets(
    request: Request,
    session: Session,
    only_opened: bool = False,
    only_closed: bool = False,
    q: Annotated[str | None, Query(min_length=1)] = None,
    page: Annotated[int, Query(ge=1, le=2**31 - 1)] = 1,
    items_per_page: Annotated[int, Query(ge=1, le=1000)] = 10,
    sort_by: SortBy = SortBy.CREATED_AT,
    sort_by_order: SortOrder = SortOrder.DESC,
    access_level: AccessLevel | None = None,
    keystone_projects: Annotated[list[str] | None, Query()] = None,
) -> JSONResponse:
    principal = await _caller(request, session)
    if keystone_projects is not None and len(keystone_projects) != 1:
        raise ValidationProblem.for_field("keystone_projects", "must hold exactly 1 item")
    if only_opened and only_closed:
        raise ValidationProblem.for_field("only_closed", "cannot be combined with only_opened")
    filters = TicketListQuery(
        status=(Status.CLOSED.value,) if only_closed else (),
        project=keystone_projects[0] if keystone_projects else None,
        q=q,
    ).filters()
    result = await ticket_page(
        session,
        actor=principal,
        wanted=TicketPageRequest(
            filters=filters,
            page=page,
            per_page=items_per_page,
            sort=_SORTS[sort_by],
            order=sort_by_order,
            access_level=access_level,
            not_closed=only_opened,
        ),
    )
    return JSONResponse(
        {
            "item_count": result.item_count,
            "items": [ticket_json(t) for t in result.items],
            "items_per_page": result.per_page,
            "page": result.page,
            "page_count": result.page_count,
        }
    )


@router.get(TICKETS + "/{ticket_number}", summary="Selectel: get a ticket", responses=_errors(404))
async def get_ticket(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    ticket = await service.get_ticket(session, actor=principal, number=ticket_number)
    return JSONResponse(ticket_json(ticket))


@router.patch(
    TICKETS + "/{ticket_number}",
    summary="Selectel: update a ticket's access level",
    responses=_errors(403, 404),
    openapi_extra=_body(UpdateIn),
)
async def update_ticket(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, UpdateIn)
    changes: dict[str, Any] = {}
    if "access_level" in wanted.model_fields_set:
        changes["access_level"] = wanted.access_level
    if "keystone_projects" in wanted.model_fields_set:
        changes["projects"] = wanted.keystone_projects or []
    try:
        update = TicketUpdate.model_validate(changes)
    except ValidationError as exc:
        raise _validation_error(list(exc.errors())) from None
    ticket = await service.update_ticket(
        session, actor=principal, number=ticket_number, changes=update
    )
    return JSONResponse(ticket_json(ticket))


@router.post(
    TICKETS + "/{ticket_number}/close",
    summary="Selectel: close a ticket",
    responses=_errors(404, 409),
    openapi_extra=_body(CloseIn),
)
async def close_ticket(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, CloseIn)
    if wanted.score is None and wanted.comment is not None:
        await enforce_comment_rate(
            session, user=principal.user, limit=COMMENTS_PER_MINUTE, window=MINUTE
        )
    ticket = await service.close_ticket(
        session, actor=principal, number=ticket_number, score=wanted.score, comment=wanted.comment
    )
    return JSONResponse(ticket_json(ticket))


@router.post(
    TICKETS + "/{ticket_number}/reopen",
    summary="Selectel: reopen a ticket",
    responses=_errors(404, 409, 429),
    openapi_extra=_body(ReopenIn),
)
async def reopen_ticket(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, ReopenIn)
    await enforce_comment_rate(
        session, user=principal.user, limit=COMMENTS_PER_MINUTE, window=MINUTE
    )
    ticket = await service.reopen_ticket(
        session,
        actor=principal,
        number=ticket_number,
        body=wanted.body,
        file_ids=_file_ids(wanted.files),
        max_files=MAX_FILES,
    )
    return JSONResponse(ticket_json(ticket))


@router.post(
    TICKETS + "/{ticket_number}/vote",
    summary="Selectel: rate a ticket",
    responses=_errors(403, 404, 409),
    openapi_extra=_body(RateTicketIn),
)
async def rate_ticket(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, RateTicketIn)
    ticket = await service.rate_ticket(
        session, actor=principal, number=ticket_number, score=wanted.score, comment=wanted.comment
    )
    return JSONResponse(_vote(ticket.rating_score, ticket.rating_comment, ticket.rated_at))


# --- comments ------------------------------------------------------------------------------


@router.post(
    TICKETS + "/{ticket_number}/comments",
    summary="Selectel: add a comment",
    responses=_errors(404, 409, 429),
    openapi_extra=_body(CommentIn),
)
async def add_comment(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, CommentIn)
    await enforce_comment_rate(
        session, user=principal.user, limit=COMMENTS_PER_MINUTE, window=MINUTE
    )
    ticket, comment = await service.add_comment(
        session,
        actor=principal,
        number=ticket_number,
        body=wanted.body,
        file_ids=_file_ids(wanted.files),
        max_files=MAX_FILES,
    )
    return JSONResponse(comment_json(comment, ticket))


@router.get(
    TICKETS + "/{ticket_number}/comments",
    summary="Selectel: list a ticket's comments",
    responses=_errors(404),
)
async def get_comments(
    request: Request, ticket_number: TicketNumber, session: Session
) -> JSONResponse:
    principal = await _caller(request, session)
    ticket = await service.get_ticket(session, actor=principal, number=ticket_number)
    items: list[dict[str, Any]] = []
    after_id: int | None = None
    while True:
        rows, more = await comment_service.list_comments(
            session, actor=principal, ticket=ticket, after_id=after_id, limit=COMMENT_PAGE
        )
        items.extend(comment_json(c, ticket) for c in rows)
        if not more or not rows:
            break
        after_id = rows[-1].id
    return JSONResponse({"items": items})


@router.get(
    V1 + "/comments/{comment_id}", summary="Selectel: get a comment", responses=_errors(404)
)
async def get_comment(request: Request, comment_id: RowId, session: Session) -> JSONResponse:
    principal = await _caller(request, session)
    comment = await comment_service.get_comment(session, actor=principal, comment_id=comment_id)
    ticket = await service.get_ticket_by_id(session, ticket_id=comment.ticket_id)
    return JSONResponse(comment_json(comment, ticket))


@router.post(
    V1 + "/comments/{comment_id}/vote",
    summary="Selectel: rate a comment",
    responses=_errors(403, 404, 409),
    openapi_extra=_body(RateCommentIn),
)
async def rate_comment(request: Request, comment_id: RowId, session: Session) -> JSONResponse:
    principal = await _caller(request, session)
    wanted = await _read(request, RateCommentIn)
    comment = await comment_service.rate_comment(
        session,
        actor=principal,
        comment_id=comment_id,
        score=wanted.score,
        comment_text=wanted.comment,
    )
    return JSONResponse(_vote(comment.rating_score, comment.rating_comment, comment.rated_at))


# --- topics --------------------------------------------------------------------------------


@router.get(V1 + "/topics", summary="Selectel: ticket topics", responses=_errors())
async def get_topics(request: Request, session: Session) -> JSONResponse:
    await _caller(request, session)
    return JSONResponse({"items": [topic_json(t) for t in await list_topics(session)]})


FACE = Face(name=NAME, router=router, path_prefixes=(PREFIX + "/",), render_error=render_error)
