"""What the F5 Distributed Cloud face does for each call, on the core services: who is
asking (``Authorization: APIToken <token>``), which ticket a name or tp_id means, storing
base64 attachments, filing tickets, the custom calls and their ``err``, and listing."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.api.deps import (
    get_settings,
    read_outside_transaction,
    resolve_caller,
    write_outside_transaction,
)
from helpwire.api.metrics import count_ticket_created
from helpwire.api.types import MAX_INT64
from helpwire.faces.f5xc_render import (
    create_spec,
    full_spec,
    list_item,
    object_meta,
    system_meta,
    ticket_ref,
)
from helpwire.faces.f5xc_wire import (
    ATTRIBUTES_KEY,
    PRIORITY_FILTER,
    PRIORITY_IN,
    STATUS_FILTER,
    TYPE_IN,
    AttachmentIn,
    CommentIn,
    CreateRequest,
    CreateSpecIn,
    ErrorCode,
    F5Priority,
    F5Service,
    F5Topic,
    F5Type,
    LabelRequirement,
    ListErrorCode,
    ListSupportRequest,
    ResponseFormat,
    TaxExemptRequest,
    decode_base64,
    parse_label_selector,
    topic_key,
)
from helpwire.files.models import File
from helpwire.files.service import record_upload, save_upload
from helpwire.files.storage import FileStorage
from helpwire.problems import (
    Conflict,
    Forbidden,
    NotFound,
    Problem,
    Unauthenticated,
    ValidationProblem,
    field_error,
)
from helpwire.tickets.listing import MAX_PAGE, TicketFilters, list_tickets
from helpwire.tickets.lookup import follow_ups, number_for_reference
from helpwire.tickets.models import BodyFormat, Priority, Status, Ticket
from helpwire.tickets.priority import change_priority
from helpwire.tickets.schemas import TicketCreate
from helpwire.tickets.service import (
    add_comment,
    close_ticket,
    create_ticket,
    escalate_ticket,
    get_ticket,
    reopen_ticket,
)
from helpwire.topics.service import get_topic

VIA = "f5xc"
API_TOKEN_SCHEME = "apitoken"  # noqa: S105 (a scheme name, not a secret)
# F5's Reopen carries no reason; helpwire reopens with a comment saying why.
REOPEN_NOTE = "Reopened through the F5 Distributed Cloud API."
TAX_EXEMPT_SUBJECT = "Tax exemption verification request"
# F5's List has no pages: it answers every ticket, up to this many (then EPARTIAL).
MAX_LISTED = 1000

# helpwire's field names in core errors, as F5 clients name them.
CREATE_FIELDS = {
    "subject": "spec.subject",
    "body": "spec.description",
    "tp_id": "spec.tp_id",
    "follow_up_of": "spec.relates_to",
    "attributes": "metadata/spec",
    "topic": "spec.topic",
    "files": "spec.comments.attachments_info",
}
COMMENT_FIELDS = {"body": "comment", "files": "attachments"}
TAX_EXEMPT_FIELDS = {"body": "request_description", "files": "attachments"}


def _renamed(problem: ValidationProblem, names: dict[str, str]) -> ValidationProblem:
    """A core field error, with the field called what the F5 client called it."""
    errors = [
        field_error(names.get(e["field"], e["field"]), e["message"], e["code"])
        for e in problem.errors
    ]
    if not errors:
        return problem
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return ValidationProblem(detail, errors=errors)


def _ticket_create(payload: dict[str, Any], names: dict[str, str]) -> TicketCreate:
    """The core's TicketCreate, its field errors named as the F5 client names the fields."""
    try:
        return TicketCreate.model_validate(payload)
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            field = ".".join(map(str, e["loc"]))
            errors.append(field_error(names.get(field, field), e["msg"], e["type"]))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise ValidationProblem(detail, errors=errors) from None


# --- who is asking ------------------------------------------------------------------------


def api_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == API_TOKEN_SCHEME and value else None


async def authenticate(request: Request, session: AsyncSession) -> Actor:
    token = api_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthenticated("send an API token: Authorization: APIToken <token>")
    return await resolve_caller(request, session, token=token)


async def _pre_authenticate(request: Request) -> Actor:
    """Who asks, checked before any attachment is stored (in a short read of its own:
    bytes are stored outside the writing transaction)."""
    async with read_outside_transaction(request) as session:
        return await authenticate(request, session)


def _request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return str(value) if value else None


# --- naming tickets -----------------------------------------------------------------------

Locate = Callable[[AsyncSession, Actor], Awaitable[int]]


def _number(name: str) -> int:
    if name.isascii() and name.isdigit() and 0 < int(name) <= MAX_INT64:
        return int(name)
    raise NotFound(f"no customer_support {name!r}")


def by_name(name: str) -> Locate:
    async def locate(session: AsyncSession, actor: Actor) -> int:
        return _number(name)

    return locate


def by_tp_id(tp_id: str) -> Locate:
    async def locate(session: AsyncSession, actor: Actor) -> int:
        return await number_for_reference(session, actor=actor, reference=tp_id)

    return locate


# --- attachments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Incoming:
    data: bytes
    filename: str | None
    content_type: str | None


def decode_attachments(
    items: Sequence[AttachmentIn] | None, *, field: str, bytes_required: bool
) -> list[Incoming]:
    """The attachments' bytes. Without bytes an entry only describes a file kept elsewhere:
    refused where bytes are the point (a new comment), skipped where it is description."""
    found = []
    for index, item in enumerate(items or []):
        where = f"{field}[{index}].attachment"
        if not item.attachment:
            if bytes_required:
                raise ValidationProblem.for_field(where, "the base64-encoded bytes are required")
            continue
        data = decode_base64(item.attachment, field=where)
        found.append(Incoming(data=data, filename=item.filename, content_type=item.content_type))
    return found


def _storage(request: Request) -> FileStorage:
    storage: FileStorage = request.app.state.storage
    return storage


async def store_files(
    request: Request, *, uploader_id: int, groups: Sequence[Sequence[Incoming]]
) -> list[list[File]]:
    """Store the bytes (no transaction open); the rows are recorded by the caller."""
    settings = get_settings(request)
    stored: list[list[File]] = []
    try:
        for group in groups:
            rows: list[File] = []
            stored.append(rows)
            for item in group:
                row = await save_upload(
                    storage=_storage(request),
                    uploader_id=uploader_id,
                    filename=item.filename,
                    content_type=item.content_type,
                    source=io.BytesIO(item.data),
                    max_bytes=settings.max_file_bytes,
                )
                rows.append(row)
    except BaseException:
        await discard_files(request, [row for rows in stored for row in rows])
        raise
    return stored


async def discard_files(request: Request, rows: Sequence[File]) -> None:
    for row in rows:
        await _storage(request).delete(row.storage_key)


# --- creating -------------------------------------------------------------------------------


def _comment_body(comment: CommentIn, *, index: int) -> tuple[str, BodyFormat]:
    if comment.html and comment.html.strip():
        return comment.html, BodyFormat.HTML
    if comment.plain_text and comment.plain_text.strip():
        return comment.plain_text, BodyFormat.TEXT
    raise ValidationProblem.for_field(f"spec.comments[{index}]", "needs plain_text or html")


def kept_facts(body: CreateRequest, *, namespace: str | None) -> dict[str, Any]:
    """What the client sent that has no column of its own, for attributes["f5xc"]: the
    metadata, and the spec but for subject, description, tp_id, comment texts and bytes."""
    metadata = body.metadata.model_dump(mode="json", exclude_none=True) if body.metadata else {}
    if namespace is not None:  # the path's namespace is metadata.namespace
        metadata["namespace"] = namespace
    spec = body.spec or CreateSpecIn()
    kept = spec.model_dump(
        mode="json",
        exclude_none=True,
        exclude={"subject", "description", "tp_id", "comments"},
    )
    if spec.comments:
        kept["comments"] = [
            {
                **c.model_dump(
                    mode="json",
                    exclude_none=True,
                    exclude={"html", "plain_text", "attachments_info"},
                ),
                **(
                    {
                        "attachments_info": [
                            a.model_dump(mode="json", exclude_none=True, exclude={"attachment"})
                            for a in c.attachments_info
                        ]
                    }
                    if c.attachments_info
                    else {}
                ),
            }
            for c in spec.comments
        ]
    return {"metadata": metadata, "spec": kept}


async def helpwire_topic(session: AsyncSession, topic: F5Topic | None) -> str | None:
    """The helpwire topic an F5 topic is, if an admin has created it (else None: the F5
    topic is then kept in the attributes only)."""
    key = topic_key(topic) if topic is not None else None
    if key is None:
        return None
    try:
        found = await get_topic(session, key=key)
    except NotFound:
        return None
    return key if found.is_active else None


def _follow_up_number(spec: CreateSpecIn) -> int | None:
    """relates_to names the original ticket; a name that is a ticket number links the
    follow-up. Other references are only kept, as sent."""
    for ref in spec.relates_to or []:
        name = ref.name or ""
        if name.isascii() and name.isdigit() and 0 < int(name) <= MAX_INT64:
            return int(name)
    return None


def new_ticket(
    request: Request, body: CreateRequest, *, namespace: str | None, topic: str | None
) -> TicketCreate:
    spec = body.spec or CreateSpecIn()
    payload: dict[str, Any] = {
        "subject": spec.subject,
        "body": spec.description,
        "tp_id": spec.tp_id,
        "topic": topic,
        "follow_up_of": _follow_up_number(spec),
        "type": TYPE_IN[spec.type].value if spec.type in TYPE_IN else None,
        "priority": PRIORITY_IN[spec.priority].value if spec.priority in PRIORITY_IN else None,
        "attributes": {ATTRIBUTES_KEY: kept_facts(body, namespace=namespace)},
        "context": {"user_agent": (request.headers.get("user-agent") or "")[:1024] or None},
    }
    return _ticket_create({k: v for k, v in payload.items() if v is not None}, CREATE_FIELDS)


async def create(request: Request, body: CreateRequest, *, namespace: str | None) -> dict[str, Any]:
    """File the ticket, with the comments (and their attachments) it was sent with."""
    settings = get_settings(request)
    actor = await _pre_authenticate(request)
    spec = body.spec or CreateSpecIn()
    comments = spec.comments or []
    texts = [_comment_body(c, index=i) for i, c in enumerate(comments)]
    incoming = [
        decode_attachments(
            c.attachments_info,
            field=f"spec.comments[{i}].attachments_info",
            bytes_required=False,
        )
        for i, c in enumerate(comments)
    ]
    stored = await store_files(request, uploader_id=actor.user.id, groups=incoming)
    try:
        async with write_outside_transaction(request) as session:
            actor = await authenticate(request, session)
            for rows in stored:
                for row in rows:
                    await record_upload(session, row=row)
            new = new_ticket(
                request,
                body,
                namespace=namespace,
                topic=await helpwire_topic(session, spec.topic),
            )
            try:
                ticket = await create_ticket(
                    session,
                    actor=actor,
                    new=new,
                    via=VIA,
                    request_id=_request_id(request),
                    max_files=settings.max_files_per_comment,
                )
                for (text, text_format), rows in zip(texts, stored, strict=True):
                    await add_comment(
                        session,
                        actor=actor,
                        number=ticket.number,
                        body=text,
                        body_format=text_format,
                        file_ids=[row.id for row in rows],
                        max_files=settings.max_files_per_comment,
                    )
            except ValidationProblem as exc:
                raise _renamed(exc, CREATE_FIELDS) from None
            answer = {
                "metadata": object_meta(ticket),
                "spec": await full_spec(session, actor=actor, ticket=ticket, storage=None),
                "system_metadata": system_meta(ticket),
            }
    except BaseException:
        await discard_files(request, [row for rows in stored for row in rows])
        raise
    count_ticket_created(request, via=VIA)
    return answer


# --- the custom calls -------------------------------------------------------------------------

Work = Callable[[AsyncSession, Actor, int], Awaitable[object]]


class Refused(Exception):
    """A custom call the core refused: answered as its ``err``, after the rollback."""

    def __init__(self, err: ErrorCode) -> None:
        super().__init__(err.value)
        self.err = err


def rpc_error(exc: Problem, *, call: str) -> ErrorCode | None:
    """The ``err`` for a refusal of the core, or None when it is an HTTP error."""
    if isinstance(exc, NotFound):
        return ErrorCode.E_NOT_NOT_FOUND
    if isinstance(exc, Forbidden):
        return ErrorCode.E_NOT_ELIGIBLE
    if isinstance(exc, Conflict):
        if call == "reopen":
            return ErrorCode.E_NOT_CLOSED
        if exc.extensions.get("current_status") == Status.CLOSED.value:
            return ErrorCode.E_NOT_OPEN
        if call == "escalate":
            return ErrorCode.E_NOT_ELIGIBLE
        return ErrorCode.EUNKNOWN
    return None


async def call(
    request: Request,
    *,
    name: str,
    locate: Locate,
    work: Work,
    stored: Sequence[File] = (),
    field_names: dict[str, str] | None = None,
) -> JSONResponse:
    try:
        async with write_outside_transaction(request) as session:
            actor = await authenticate(request, session)
            for row in stored:
                await record_upload(session, row=row)
            try:
                await work(session, actor, await locate(session, actor))
            except ValidationProblem as exc:
                raise _renamed(exc, field_names or {}) from None
            except Problem as exc:
                err = rpc_error(exc, call=name)
                if err is None:
                    raise
                raise Refused(err) from exc
    except Refused as refused:
        await discard_files(request, stored)
        return JSONResponse({"err": refused.err.value})
    except BaseException:
        await discard_files(request, stored)
        raise
    return JSONResponse({"err": ErrorCode.EOK.value})


async def close(session: AsyncSession, actor: Actor, number: int) -> object:
    return await close_ticket(session, actor=actor, number=number)


async def reopen(session: AsyncSession, actor: Actor, number: int) -> object:
    return await reopen_ticket(session, actor=actor, number=number, body=REOPEN_NOTE)


async def escalate(session: AsyncSession, actor: Actor, number: int) -> object:
    return await escalate_ticket(session, actor=actor, number=number)


def new_priority(priority: F5Priority | None) -> Work:
    if priority is None or priority not in PRIORITY_IN:
        raise ValidationProblem.for_field(
            "priority", "must be PRIORITY_NORMAL, PRIORITY_HIGH or PRIORITY_URGENT"
        )
    target: Priority = PRIORITY_IN[priority]

    async def work(session: AsyncSession, actor: Actor, number: int) -> object:
        return await change_priority(session, actor=actor, number=number, priority=target)

    return work


async def comment(
    request: Request,
    *,
    locate: Locate,
    text: str | None,
    attachments: Sequence[AttachmentIn] | None,
) -> JSONResponse:
    settings = get_settings(request)
    actor = await _pre_authenticate(request)
    if text is None or not text.strip():
        raise ValidationProblem.for_field("comment", "must not be empty")
    incoming = decode_attachments(attachments, field="attachments", bytes_required=True)
    stored = (await store_files(request, uploader_id=actor.user.id, groups=[incoming]))[0]

    async def work(session: AsyncSession, actor: Actor, number: int) -> object:
        return await add_comment(
            session,
            actor=actor,
            number=number,
            body=text,
            body_format=BodyFormat.TEXT,
            file_ids=[row.id for row in stored],
            max_files=settings.max_files_per_comment,
        )

    return await call(
        request,
        name="comment",
        locate=locate,
        work=work,
        stored=stored,
        field_names=COMMENT_FIELDS,
    )


# --- reading ----------------------------------------------------------------------------------


async def visible_tickets(
    session: AsyncSession, *, actor: Actor, filters: TicketFilters
) -> tuple[list[Ticket], bool]:
    """Every ticket the actor may see under ``filters``, newest first, up to MAX_LISTED;
    and whether there were more."""
    found: list[Ticket] = []
    cursor: str | None = None
    while True:
        page, cursor = await list_tickets(
            session, actor=actor, filters=filters, limit=MAX_PAGE, cursor=cursor
        )
        found.extend(page)
        if cursor is None:
            return found, False
        if len(found) >= MAX_LISTED:
            return found[:MAX_LISTED], True


def list_answer(
    tickets: Sequence[Ticket],
    *,
    truncated: bool,
    with_spec: bool,
    with_status: bool,
    selector: Sequence[LabelRequirement] = (),
) -> dict[str, Any]:
    items = []
    for ticket in tickets:
        item = list_item(ticket, with_spec=with_spec, with_status=with_status)
        if all(r.matches(item["labels"]) for r in selector):
            items.append(item)
    errors = (
        [
            {
                "code": ListErrorCode.EPARTIAL.value,
                "message": f"only the newest {MAX_LISTED} tickets are listed",
            }
        ]
        if truncated
        else []
    )
    return {"items": items, "errors": errors}


async def list_call(
    request: Request,
    session: AsyncSession,
    *,
    own_only: bool,
    label_filter: str | None = None,
    with_spec: bool = False,
) -> dict[str, Any]:
    """List (``own_only``: the caller's tickets) or AdminList (all the caller may see).
    The spec of each comes with ``report_fields`` (or ``with_spec``), as in F5."""
    actor = await authenticate(request, session)
    selector = parse_label_selector(label_filter or "")
    tickets, truncated = await visible_tickets(
        session, actor=actor, filters=TicketFilters(requester="me" if own_only else None)
    )
    return list_answer(
        tickets,
        truncated=truncated,
        with_spec=with_spec or "report_fields" in request.query_params,
        with_status="report_status_fields" in request.query_params,
        selector=selector,
    )


async def read_ticket(request: Request, session: AsyncSession, locate: Locate) -> Ticket:
    actor = await authenticate(request, session)
    return await get_ticket(session, actor=actor, number=await locate(session, actor))


def _actor(request: Request) -> Actor:
    actor: Actor = request.state.principal
    return actor


async def get_answer(
    request: Request, session: AsyncSession, *, locate: Locate, response_format: ResponseFormat
) -> dict[str, Any]:
    ticket = await read_ticket(request, session, locate)
    actor = _actor(request)
    answer: dict[str, Any] = {
        "metadata": object_meta(ticket),
        "system_metadata": system_meta(ticket),
    }
    everything = response_format == ResponseFormat.GET_RSP_FORMAT_DEFAULT
    if everything or response_format == ResponseFormat.GET_RSP_FORMAT_READ:
        answer["spec"] = await full_spec(
            session, actor=actor, ticket=ticket, storage=_storage(request)
        )
    if everything or response_format == ResponseFormat.GET_RSP_FORMAT_FOR_CREATE:
        answer["create_form"] = {"metadata": object_meta(ticket), "spec": create_spec(ticket)}
    if everything or response_format == ResponseFormat.GET_RSP_FORMAT_STATUS:
        answer["status"] = []
    if everything or response_format == ResponseFormat.GET_RSP_FORMAT_REFERRING_OBJECTS:
        answer["referring_objects"] = [
            ticket_ref(t) for t in await follow_ups(session, actor=actor, ticket=ticket)
        ]
    if everything or response_format == ResponseFormat.GET_RSP_FORMAT_BROKEN_REFERENCES:
        answer["deleted_referred_objects"] = []
        answer["disabled_referred_objects"] = []
    return answer


async def child_tenant_tickets(
    request: Request, session: AsyncSession, body: ListSupportRequest
) -> dict[str, Any]:
    """ListCTSupportTickets: the tickets the caller may see with one of these priorities
    and one of these statuses (both required, *_UNKNOWN not allowed). A POST that only
    reads: ``session`` is a reading one (api.deps.ReadingSession)."""
    for field, values in (("priority", body.priority), ("status", body.status)):
        if not values:
            raise ValidationProblem.for_field(field, "at least one value is required")
        if any(v.value.endswith("_UNKNOWN") for v in values):
            raise ValidationProblem.for_field(field, "*_UNKNOWN is not a value to list by")
    priorities = {p for v in body.priority or [] for p in PRIORITY_FILTER[v]}
    statuses = {s for v in body.status or [] for s in STATUS_FILTER[v]}
    actor = await authenticate(request, session)
    tickets: list[Ticket] = []
    truncated = False
    if priorities and statuses:
        filters = TicketFilters(
            priorities=tuple(sorted(priorities)), statuses=tuple(sorted(statuses))
        )
        tickets, truncated = await visible_tickets(session, actor=actor, filters=filters)
    return list_answer(tickets, truncated=truncated, with_spec=True, with_status=False)


async def tax_exempt_request(request: Request, body: TaxExemptRequest) -> dict[str, Any]:
    """A ticket for billing: the request as its body, the documents attached to it."""
    settings = get_settings(request)
    actor = await _pre_authenticate(request)
    if not body.request_description or not body.request_description.strip():
        raise ValidationProblem.for_field("request_description", "must not be empty")
    incoming = decode_attachments(body.attachments, field="attachments", bytes_required=True)
    stored = (await store_files(request, uploader_id=actor.user.id, groups=[incoming]))[0]
    topic = F5Topic.ACCOUNT_SUPPORT_TOPIC_TAX_EXEMPT_VERIFICATION
    kept = {
        "metadata": {},
        "spec": {
            "type": F5Type.TYPE_ACCOUNT_SUPPORT.value,
            "topic": topic.value,
            "service": F5Service.SS_BILLING.value,
        },
    }
    try:
        async with write_outside_transaction(request) as session:
            actor = await authenticate(request, session)
            for row in stored:
                await record_upload(session, row=row)
            payload: dict[str, Any] = {
                "subject": TAX_EXEMPT_SUBJECT,
                "body": body.request_description,
                "type": TYPE_IN[F5Type.TYPE_ACCOUNT_SUPPORT].value,
                "files": [row.id for row in stored],
                "attributes": {ATTRIBUTES_KEY: kept},
            }
            key = await helpwire_topic(session, topic)
            if key is not None:
                payload["topic"] = key
            try:
                ticket = await create_ticket(
                    session,
                    actor=actor,
                    new=_ticket_create(payload, TAX_EXEMPT_FIELDS),
                    via=VIA,
                    request_id=_request_id(request),
                    max_files=settings.max_files_per_comment,
                )
            except ValidationProblem as exc:
                raise _renamed(exc, TAX_EXEMPT_FIELDS) from None
    except BaseException:
        await discard_files(request, stored)
        raise
    count_ticket_created(request, via=VIA)
    return {"err": ErrorCode.EOK.value, "name": str(ticket.number)}
