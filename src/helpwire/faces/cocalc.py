"""The CoCalc face: CoCalc's HTTP API v1 calls ``create_support_ticket`` and
``get_support_tickets``.

Both are POSTs authenticated with the account's API key, sent as the Basic user name
(``curl -u sk_...:``) or as a Bearer token, with JSON or form-encoded options. Errors are
CoCalc's: ``{"error": "..."}``, status 400 (401 for an unknown key). See docs/faces.md.
"""

from __future__ import annotations

import base64
import binascii
import email.message
import posixpath
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.api.deps import ReadingSession, Session, get_settings, resolve_caller
from helpwire.api.metrics import count_ticket_created
from helpwire.faces.common import (
    Face,
    error_translator,
    json_error,
    problem_headers,
    translating_route,
)
from helpwire.faces.payloads import (
    NUL_MESSAGE,
    BodyError,
    decode_json_text,
    nul_field,
    parse_form,
    parse_json,
)
from helpwire.problems import (
    MalformedRequest,
    PayloadTooLarge,
    Problem,
    RateLimited,
    Unauthenticated,
    ValidationProblem,
)
from helpwire.tickets import service
from helpwire.tickets.descriptions import first_bodies
from helpwire.tickets.listing import SortField, SortOrder, TicketFilters, list_tickets
from helpwire.tickets.models import BodyFormat, Status, Ticket, TicketType
from helpwire.tickets.schemas import Body, TicketCreate

NAME = "cocalc"
CREATE_PATH = "/api/v1/create_support_ticket"
LIST_PATH = "/api/v1/get_support_tickets"

# Where `location` paths and course project ids point. CoCalc's own code hard-codes its
# site the same way; a location that is already an http(s) URL is kept as it is.
COCALC_SITE = "https://cocalc.com"
NO_LOCATION = "No location provided."
# Zendesk's search answered one page of 100; CoCalc showed that page.
MAX_LISTED = 100

# The options of each call (misc.defaults in CoCalc): required ones, then optional ones.
CREATE_REQUIRED = ("email_address", "subject", "body")
CREATE_OPTIONAL = ("id", "username", "tags", "account_id", "location", "info")
LIST_OPTIONAL = ("id",)
# Options kept on the ticket's attributes, under "cocalc", exactly as sent.
KEPT_AS_ATTRIBUTES = ("id", "username", "email_address", "account_id")

# helpwire's statuses are Zendesk's, which CoCalc passed on unchanged.
STATUS_WORDS: dict[Status, str] = {
    Status.NEW: "new",
    Status.OPEN: "open",
    Status.PENDING: "pending",
    Status.HOLD: "hold",
    Status.SOLVED: "solved",
    Status.CLOSED: "closed",
}

NO_API_KEY = "You must provide authentication via an API key."
INVALID_API_KEY = "Invalid API key."


# --- errors ----------------------------------------------------------------------------


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return json_error({"error": message}, status, headers)


def render_error(status: int, message: str) -> Response:
    """CoCalc answers every refused call with 400; helpwire keeps 401 (unknown key), 413
    (body too large), 429 (slow down) and server errors distinct."""
    if status not in (401, 413, 429) and status < 500:
        status = 400
    return _error(status, message)


def _answer_problem(_request: Request, problem: Problem) -> Response:
    headers = problem_headers(problem)
    if isinstance(problem, Unauthenticated):
        return _error(401, INVALID_API_KEY, headers)
    if isinstance(problem, RateLimited | PayloadTooLarge):
        return _error(problem.status, problem.detail, headers)
    return render_error(problem.status, problem.detail)


def _answer_invalid(_request: Request, _exc: RequestValidationError) -> Response:
    return _error(400, _invalid("the request cannot be read"))


_translate = error_translator(invalid=_answer_invalid, problem=_answer_problem)


def _invalid(reason: str) -> str:
    """CoCalc's text for options it cannot take: ``invalid parameters '<the error>'``."""
    return f"invalid parameters '{reason}'"


def _unexpected(name: str) -> MalformedRequest:
    return MalformedRequest(
        _invalid(f"Error: misc.defaults -- TypeError: got an unexpected argument '{name}'")
    )


def _missing(name: str) -> MalformedRequest:
    return MalformedRequest(
        _invalid(f"Error: misc.defaults -- TypeError: property '{name}' must be specified")
    )


def _wrong_type(name: str, expected: str) -> MalformedRequest:
    return MalformedRequest(_invalid(f"TypeError: '{name}' must be {expected}"))


router = APIRouter(tags=["faces: CoCalc"], route_class=translating_route(_translate))


# --- authentication and options ----------------------------------------------------------


def api_key(authorization: str | None) -> str | None:
    """The API key in the Authorization header, as CoCalc reads it: ``Bearer <key>``, or
    Basic with the key as user name (whatever the password)."""
    if authorization is None or not authorization.strip():
        raise MalformedRequest(NO_API_KEY)
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        return value or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0] or None
    raise MalformedRequest(f"Unknown authorization type '{scheme}'")


async def _caller(request: Request, session: AsyncSession) -> Actor:
    return await resolve_caller(
        request, session, token=api_key(request.headers.get("authorization"))
    )


def _is_form(request: Request) -> bool:
    raw = request.headers.get("content-type")
    if raw is None:
        return False
    header = email.message.Message()
    header["content-type"] = raw
    return header.get_content_type() == "application/x-www-form-urlencoded"


async def read_options(
    request: Request, *, required: tuple[str, ...] = (), optional: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The call's options from a JSON or form-encoded body, refusing (in CoCalc's order)
    a missing required option, then one the call does not take. The JSON of CoCalc's own
    curl example has shell line continuations in it (backslashes between tokens): they
    are read as the line breaks they were meant to be."""
    raw = await request.body()
    try:
        if _is_form(request):
            document: Any = parse_form(raw)
        elif not raw.strip():
            document = {}
        else:
            document = parse_json(raw, tolerate_line_continuations=True)
    except BodyError as exc:
        raise MalformedRequest(_invalid(f"SyntaxError: {exc}")) from None
    if not isinstance(document, dict):
        raise MalformedRequest(_invalid("TypeError: the options must be a JSON object"))
    for name in required:
        if document.get(name) is None:
            raise _missing(name)
    for name in document:
        if name not in required and name not in optional:
            raise _unexpected(name)
    where = nul_field(document)
    if where is not None:
        raise ValidationProblem.for_field(where, NUL_MESSAGE, "nul_character")
    return document


def _string(options: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = options.get(name)
    if value is None:
        if required:
            raise _missing(name)
        return None
    if not isinstance(value, str):
        raise _wrong_type(name, "a string")
    return value


def _tags(options: dict[str, Any]) -> list[str]:
    value = decode_json_text(options.get("tags"))
    if value is None:
        return []
    if isinstance(value, str):  # a form's single `tags=member`
        return [value]
    if not isinstance(value, list) or not all(isinstance(tag, str) for tag in value):
        raise _wrong_type("tags", "a list of strings")
    return value


def _info(options: dict[str, Any]) -> dict[str, Any]:
    value = decode_json_text(options.get("info"))
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong_type("info", "an object")
    return value


def _check_email(address: str) -> str:
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in address.strip()):
        raise MalformedRequest(_invalid(f"TypeError: '{address}' is not an email address"))
    return address


# --- the ticket's body, as CoCalc expands it ----------------------------------------------


def location_url(location: str) -> str:
    """A location path (``/projects/<id>/files/x.ipynb``) as a full URL on the CoCalc
    site; a location that is a URL already stays as it is."""
    if urlsplit(location).scheme in ("http", "https"):
        return location
    path, sep, rest = location.partition("?")
    if not sep:
        path, sep, rest = location.partition("#")
    # Normalised under the site's root, as path.join did: "../" cannot leave the site.
    clean = posixpath.normpath("/" + path.lstrip("/"))
    return COCALC_SITE + quote(clean, safe="/%:@!$&'()*+,;=~-._") + sep + rest


def course_url(course: Any) -> str | None:
    """The course's project as a URL, when ``info.course`` is a project id (a UUID)."""
    if not isinstance(course, str):
        return None
    try:
        project_id = uuid.UUID(course.strip())
    except ValueError:
        return None
    return f"{COCALC_SITE}/projects/{project_id}"


def expanded_body(body: str, *, location: str | None, course: str | None) -> str:
    """The body with the location's URL (or "No location provided.") and the course's
    URL appended, each after a blank line, as CoCalc writes them."""
    text = body + "\n\n" + (location or NO_LOCATION)
    if course is not None:
        text += f"\n\nCourse: {course}"
    return text


# TicketCreate's field names, as a CoCalc client knows them.
_FIELD_NAMES = {
    "context.location": "location",
    "context.user_agent": "info.user_agent",
    "context.info": "info",
    "attributes.cocalc": "",
    "attributes": "",
}


def _field(loc: tuple[Any, ...]) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else ("." if name else "") + str(part)
    for internal, shown in _FIELD_NAMES.items():
        if name == internal:
            return shown or "options"
        if name.startswith(internal + ".") or name.startswith(internal + "["):
            rest = name[len(internal) :].lstrip(".")
            return f"{shown}.{rest}" if shown else rest
    return name


def _validation_problem(exc: ValidationError, *, field: str | None = None) -> ValidationProblem:
    messages = []
    for e in exc.errors():
        message = str(e.get("msg", "invalid"))
        if e.get("type") in ("string_too_short", "string_pattern_mismatch"):
            message = "must not be empty"
        messages.append(f"{field or _field(tuple(e.get('loc', ())))}: {message}")
    return ValidationProblem("; ".join(messages[:5]) or "the options are not valid")


# The client's own body must be one the core takes, before anything is appended to it.
_CLIENT_BODY: TypeAdapter[str] = TypeAdapter(Body)


def ticket_create(options: dict[str, Any], *, user_agent_header: str | None) -> TicketCreate:
    _check_email(_string(options, "email_address", required=True) or "")
    subject = _string(options, "subject", required=True) or ""
    body = _string(options, "body", required=True) or ""
    for name in ("id", "username", "account_id"):
        _string(options, name)
    location = _string(options, "location")
    tags = _tags(options)
    info = _info(options)
    user_agent = info.get("user_agent")
    kept = {name: options[name] for name in KEPT_AS_ATTRIBUTES if options.get(name) is not None}
    location_full = location_url(location) if location else None
    try:
        _CLIENT_BODY.validate_python(body)
    except ValidationError as exc:
        raise _validation_problem(exc, field="body") from None
    try:
        return TicketCreate.model_validate(
            {
                "subject": subject,
                "body": expanded_body(
                    body, location=location_full, course=course_url(info.get("course"))
                ),
                "body_format": BodyFormat.MARKDOWN,  # "html or md formatted text"
                "type": TicketType.PROBLEM,  # what CoCalc files in Zendesk
                "tags": tags,
                "attributes": {NAME: kept},
                "context": {
                    "user_agent": (
                        user_agent if isinstance(user_agent, str) else user_agent_header or None
                    ),
                    "location": location_full,
                    "info": info,
                },
            }
        )
    except ValidationError as exc:
        raise _validation_problem(exc) from None


# --- the calls -----------------------------------------------------------------------------


def ticket_url(request: Request, ticket: Ticket) -> str:
    return f"{get_settings(request).base_url.rstrip('/')}/tickets/{ticket.number}"


def _zendesk_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _options_body(properties: dict[str, Any], required: tuple[str, ...]) -> dict[str, Any]:
    """The OpenAPI request body of a call: the same options as JSON or as a form. An
    optional option may be null: CoCalc reads it as not given."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            name: value if name in required else {"anyOf": [value, {"type": "null"}]}
            for name, value in properties.items()
        },
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    return {
        "required": bool(required),
        "content": {
            kind: {"schema": schema}
            for kind in ("application/json", "application/x-www-form-urlencoded")
        },
    }


_TEXT = {"type": "string"}
_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": _TEXT},
                }
            }
        },
    }
    for status, description in (
        (400, "Refused: missing or unknown options, no API key, anything invalid."),
        (401, "The API key is unknown or revoked."),
        (413, "The body is larger than the service takes."),
        (429, "Too many requests; Retry-After says when to try again."),
        (503, "The service cannot answer now (the database is unreachable); try again."),
    )
}


@router.post(
    CREATE_PATH,
    summary="CoCalc: create a support ticket",
    responses=_ERROR_RESPONSES,
    openapi_extra={
        "requestBody": _options_body(
            {
                "id": _TEXT,
                "username": _TEXT,
                "email_address": _TEXT,
                "subject": _TEXT,
                "body": _TEXT,
                # One tag may come as a string.
                "tags": {"anyOf": [{"type": "array", "items": _TEXT}, _TEXT]},
                "account_id": _TEXT,
                "location": _TEXT,
                "info": {"type": "object"},
            },
            CREATE_REQUIRED,
        )
    },
)
async def create_support_ticket(request: Request, session: Session) -> JSONResponse:
    principal = await _caller(request, session)
    options = await read_options(request, required=CREATE_REQUIRED, optional=CREATE_OPTIONAL)
    new = ticket_create(options, user_agent_header=request.headers.get("user-agent"))
    request_id = getattr(request.state, "request_id", None)
    ticket = await service.create_ticket(
        session,
        actor=principal,
        new=new,
        via=NAME,
        request_id=str(request_id) if request_id else None,
    )
    count_ticket_created(request, via=NAME)
    return JSONResponse(
        {"event": "support_ticket_url", "id": ticket.uid, "url": ticket_url(request, ticket)}
    )


@router.post(
    LIST_PATH,
    summary="CoCalc: the caller's support tickets",
    responses=_ERROR_RESPONSES,
    openapi_extra={"requestBody": _options_body({"id": _TEXT}, ())},
)
async def get_support_tickets(request: Request, session: ReadingSession) -> JSONResponse:
    principal = await _caller(request, session)
    options = await read_options(request, optional=LIST_OPTIONAL)
    # Not used to list, but checked as create checks it.
    _string(options, "id")
    tickets, _next = await list_tickets(
        session,
        actor=principal,
        filters=TicketFilters(requester="me"),
        sort=SortField.CREATED_AT,
        order=SortOrder.DESC,
        limit=MAX_LISTED,
    )
    descriptions = await first_bodies(session, ticket_ids=[t.id for t in tickets])
    return JSONResponse(
        {
            "event": "support_tickets",
            "tickets": [
                {
                    "id": t.uid,
                    "subject": t.subject,
                    "description": descriptions.get(t.id, ""),
                    "created_at": _zendesk_time(t.created_at),
                    "updated_at": _zendesk_time(t.updated_at),
                    "status": STATUS_WORDS[Status(t.status)],
                    "url": ticket_url(request, t),
                }
                for t in tickets
            ],
        }
    )


FACE = Face(
    name=NAME, router=router, path_prefixes=(CREATE_PATH, LIST_PATH), render_error=render_error
)
