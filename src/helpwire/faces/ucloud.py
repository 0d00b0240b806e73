"""The UCloud face: UCloud's support service (``SupportDescriptions.createTicket``).

``POST /api/support/ticket`` with ``{"subject", "message"}`` and a Bearer token answers
200 ``{}``. UCloud enriches the ticket with who sent it (username, security role, real
name, e-mail, account, projects), the request id and the browser's user agent; helpwire
keeps the same on the ticket, so that the chat message of ``ticket.created`` (see
notify/formats/) reads like UCloud's own. Errors are UCloud's ``CommonErrorMessage``:
``{"why": str, "errorCode": str | null}``. See docs/faces.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from helpwire.accounts.memberships import nameable_project_keys, project_keys_of
from helpwire.api.deps import Session, bearer_or_basic_token, resolve_caller
from helpwire.api.metrics import count_ticket_created
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
    PayloadTooLarge,
    Problem,
    RateLimited,
    Unauthenticated,
    ValidationProblem,
)
from helpwire.tickets import service
from helpwire.tickets.limits import enforce_ticket_rate
from helpwire.tickets.models import TicketType
from helpwire.tickets.schemas import TicketCreate

NAME = "ucloud"
PATH = "/api/support/ticket"
PROJECT_HEADER = "Project"

# UCloud's SupportController: at most 10 tickets per user in a sliding hour, and a
# message of at most 512 KiB.
TICKETS_PER_WINDOW = 10
RATE_WINDOW = timedelta(hours=1)
MAX_MESSAGE_BYTES = 512 * 1024

UNAUTHORIZED = "Unauthorized"
TOO_LARGE = "Too large"
TOO_MANY_REQUESTS = "Too many requests"
NO_BODY = "Invalid request received (no body?)"
WRONG_TYPE = "Invalid request received (wrong type)"

# A message that starts with one of these marks the ticket's type, as UCloud's web
# client writes it.
TYPE_PREFIXES: tuple[tuple[str, TicketType], ...] = (
    ("BUG:", TicketType.BUG),
    ("SUGGESTION:", TicketType.SUGGESTION),
)

# Field names of helpwire's TicketCreate, as a UCloud client knows them.
_FIELD_NAMES = {
    "subject": "subject",
    "body": "message",
    "context.user_agent": "User-Agent header",
    "context.info": "Project header",
}


def _error(status: int, why: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return json_error({"why": why, "errorCode": None}, status, headers)


_CANONICAL = {401: UNAUTHORIZED, 413: TOO_LARGE, 429: TOO_MANY_REQUESTS}


def render_error(status: int, message: str) -> Response:
    """An error in UCloud's shape. UCloud has no 422: what helpwire refuses as
    unprocessable UCloud answers as a bad request."""
    if status == 422:
        status = 400
    return _error(status, _CANONICAL.get(status, message))


def _answer_problem(_request: Request, problem: Problem) -> Response:
    headers = problem_headers(problem)
    if isinstance(problem, Unauthenticated):
        return _error(401, UNAUTHORIZED, headers)
    if isinstance(problem, RateLimited):
        return _error(429, TOO_MANY_REQUESTS, headers)
    if isinstance(problem, PayloadTooLarge):
        return _error(413, TOO_LARGE, headers)
    if isinstance(problem, ValidationProblem | MalformedRequest):
        return _error(400, problem.detail, headers)
    return _error(problem.status, problem.detail, headers)


def _answer_invalid(_request: Request, _exc: RequestValidationError) -> Response:
    return _error(400, WRONG_TYPE)


_translate = error_translator(invalid=_answer_invalid, problem=_answer_problem)


router = APIRouter(tags=["faces: UCloud"], route_class=translating_route(_translate))


@dataclass(frozen=True)
class CreateTicketRequest:
    subject: str
    message: str


def read_request(raw: bytes) -> CreateTicketRequest:
    """The body as UCloud's RPC server reads it: JSON whatever the content type says; an
    empty body (or ``null``) is "no body", anything that does not decode into
    ``{"subject": str, "message": str}`` is "wrong type". Unknown keys are ignored."""
    if not raw:
        raise MalformedRequest(NO_BODY)
    try:
        document = parse_json(raw)
    except BodyError:
        raise MalformedRequest(WRONG_TYPE) from None
    if document is None:
        raise MalformedRequest(NO_BODY)
    if not isinstance(document, dict):
        raise MalformedRequest(WRONG_TYPE)
    subject, message = document.get("subject"), document.get("message")
    if not isinstance(subject, str) or not isinstance(message, str):
        raise MalformedRequest(WRONG_TYPE)
    for field, value in (("subject", subject), ("message", message)):
        if nul_field(value) is not None:
            raise ValidationProblem.for_field(field, NUL_MESSAGE, "nul_character")
    return CreateTicketRequest(subject=subject, message=message)


def ticket_type(message: str) -> TicketType:
    head = message.lstrip()[:16].upper()
    for prefix, kind in TYPE_PREFIXES:
        if head.startswith(prefix):
            return kind
    return TicketType.QUESTION


def _field(loc: tuple[Any, ...]) -> str:
    dotted = ".".join(str(part) for part in loc)
    for name, shown in _FIELD_NAMES.items():
        if dotted == name or dotted.startswith(name + "."):
            return shown
    return dotted or "body"


def _validation_problem(exc: ValidationError) -> Problem:
    errors = exc.errors()
    if any(
        tuple(e.get("loc", ())) == ("body",) and e.get("type") == "string_too_long" for e in errors
    ):
        # helpwire keeps shorter bodies than UCloud's 512 KiB; the client hears "too large"
        # either way.
        return PayloadTooLarge(TOO_LARGE)
    fields = []
    for e in errors:
        message = str(e.get("msg", "invalid"))
        if e.get("type") in ("string_too_short", "string_pattern_mismatch", "missing"):
            message = "must not be empty"
        fields.append({"field": _field(tuple(e.get("loc", ()))), "message": message})
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return ValidationProblem(summary or "the request is not valid")


def _ticket_create(
    request: CreateTicketRequest,
    *,
    user_agent: str | None,
    project: str | None,
    ticket_projects: list[str],
    user_projects: list[str],
) -> TicketCreate:
    info: dict[str, Any] = {}
    if project is not None:
        info["project"] = project
    if user_projects:
        info["user_projects"] = user_projects
    try:
        return TicketCreate.model_validate(
            {
                "subject": request.subject,
                "body": request.message,
                "type": ticket_type(request.message),
                "projects": ticket_projects,
                "context": {"user_agent": user_agent, "info": info},
            }
        )
    except ValidationError as exc:
        raise _validation_problem(exc) from None


_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["why", "errorCode"],
                    "properties": {
                        "why": {"type": "string"},
                        "errorCode": {"type": ["string", "null"]},
                    },
                }
            }
        },
    }
    for status, description in (
        (400, f'"{NO_BODY}", "{WRONG_TYPE}", or a field that is not valid.'),
        (401, f'"{UNAUTHORIZED}": no token, or not a valid one.'),
        (413, f'"{TOO_LARGE}": the message is over 512 KiB.'),
        (
            429,
            f'"{TOO_MANY_REQUESTS}": more than 10 tickets in an hour, or over the rate limit;'
            " see Retry-After.",
        ),
        (503, "The database is unavailable for a moment; see Retry-After."),
    )
}


@router.post(
    PATH,
    summary="UCloud: create a support ticket",
    response_description="UCloud's Unit: an empty object.",
    responses=_ERROR_RESPONSES,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["subject", "message"],
                        "properties": {
                            "subject": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    }
                }
            },
        }
    },
)
async def create_ticket(request: Request, session: Session) -> JSONResponse:
    principal = await resolve_caller(
        request, session, token=bearer_or_basic_token(request.headers.get("authorization"))
    )
    ucloud = read_request(await request.body())
    # UCloud checks the rate before the size.
    await enforce_ticket_rate(
        session, user=principal.user, limit=TICKETS_PER_WINDOW, window=RATE_WINDOW, via=NAME
    )
    if len(ucloud.message.encode()) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(TOO_LARGE)
    project = (request.headers.get(PROJECT_HEADER) or "").strip() or None
    user = principal.user
    new = _ticket_create(
        ucloud,
        user_agent=request.headers.get("user-agent") or None,
        project=project,
        # A hint, not a demand: a project the caller may not name on a ticket (unknown,
        # or one they are no member of) stays in context.info only, rather than refusing
        # the ticket as the core would.
        ticket_projects=await nameable_project_keys(
            session, actor=principal, keys=[project] if project else []
        ),
        user_projects=await project_keys_of(session, user=user),
    )
    request_id = getattr(request.state, "request_id", None)
    await service.create_ticket(
        session,
        actor=principal,
        new=new,
        via=NAME,
        request_id=str(request_id) if request_id else None,
    )
    count_ticket_created(request, via=NAME)
    return JSONResponse({})


FACE = Face(name=NAME, router=router, path_prefixes=(PATH,), render_error=render_error)
