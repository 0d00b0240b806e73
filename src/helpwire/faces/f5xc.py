"""The F5 Distributed Cloud face: ``customer_support`` objects and the partner-management
``customer_supports`` of child tenants, as F5's OpenAPI documents describe them.

- Authentication: ``Authorization: APIToken <token>`` (a helpwire API token).
- A ticket is the object whose ``metadata.name`` is the ticket number, in namespace
  ``system``; the partner-management paths name it by its ``tp_id`` (the ticket's
  third-party reference, or else its number). Any namespace is accepted in a path:
  helpwire has no namespaces, and a tenant's tickets are one set.
- The custom calls (close, reopen, escalate, comment, priority) answer 200 with
  ``{"err": ...}``; a ticket that is not there, or not visible, is E_NOT_NOT_FOUND.
- Everything else fails as F5's gateway does: the HTTP status and a google.rpc.Status
  body ``{"code", "details", "message"}``.
- Attachments come in and go out base64-encoded inside the JSON.

Every path is also answered under the gateway prefix F5's API reference uses in its
examples, ``/api/v1/api/{environment}/{region}/namespaces/{namespace}``.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from helpwire.api.deps import ReadingSession, Session
from helpwire.api.errors import validation_problem
from helpwire.faces.common import Face, error_translator, json_error, translating_route
from helpwire.faces.f5xc_calls import (
    by_name,
    by_tp_id,
    call,
    child_tenant_tickets,
    close,
    comment,
    create,
    escalate,
    get_answer,
    list_call,
    new_priority,
    reopen,
    tax_exempt_request,
)
from helpwire.faces.f5xc_wire import (
    CommentRequest,
    CreateRequest,
    ListSupportRequest,
    NameRequest,
    PartnerCommentRequest,
    PartnerPriorityRequest,
    PartnerTicketRequest,
    PriorityRequest,
    ResponseFormat,
    TaxExemptRequest,
    error_body,
    wire_status,
)
from helpwire.problems import MalformedRequest, Problem, ValidationProblem, field_error

CHALLENGE = 'APIToken realm="helpwire"'
GATEWAY_PREFIX = "/api/v1/api/{environment}/{region}/namespaces/{gateway_namespace}"
PARTNER = "/api/web/namespaces/system/partner-management/customer_supports"


# --- errors -----------------------------------------------------------------------------


def render_error(status: int, message: str) -> Response:
    status = wire_status(status)
    headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
    return json_error(error_body(status, message), status, headers)


def _answer_invalid(_request: Request, exc: RequestValidationError) -> Response:
    return render_error(400, validation_problem(exc).detail)


def _answer_problem(_request: Request, problem: Problem) -> Response:
    # F5's own challenge (render_error) replaces the core's Bearer one.
    answer = render_error(problem.status, problem.detail)
    for name, value in problem.headers.items():
        if name.lower() != "www-authenticate":
            answer.headers[name] = value
    return answer


_translate = error_translator(invalid=_answer_invalid, problem=_answer_problem)


# --- bodies ---------------------------------------------------------------------------------

Model = TypeVar("Model", bound=BaseModel)


def _read_json(model: type[Model]) -> Callable[[Request], Awaitable[Model]]:
    async def read(request: Request) -> Model:
        raw = await request.body()
        try:
            return model.model_validate_json(raw if raw.strip() else b"{}")
        except ValidationError as exc:
            raise _body_problem(exc) from None

    return read


def json_body(model: type[Model]) -> Any:
    """The body as JSON, whatever Content-Type says (F5's gateway reads any body as JSON),
    an empty one being ``{}`` (an empty message, as for F5)."""
    return Depends(_read_json(model))


def _body_problem(exc: ValidationError) -> Problem:
    errors = exc.errors()
    if any(e["type"] == "json_invalid" for e in errors):
        return MalformedRequest("the body is not valid JSON")
    fields = [
        field_error(".".join(map(str, e["loc"])) or "body", e["msg"], e["type"]) for e in errors
    ]
    return ValidationProblem(
        "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]), errors=fields
    )


# --- routes -----------------------------------------------------------------------------------

routes = APIRouter(route_class=translating_route(_translate), include_in_schema=False)
NS = "/api/web/namespaces/{namespace}"

CreateBody = Annotated[CreateRequest, json_body(CreateRequest)]
NameBody = Annotated[NameRequest, json_body(NameRequest)]
PriorityBody = Annotated[PriorityRequest, json_body(PriorityRequest)]
CommentBody = Annotated[CommentRequest, json_body(CommentRequest)]
ListSupportBody = Annotated[ListSupportRequest, json_body(ListSupportRequest)]
TaxExemptBody = Annotated[TaxExemptRequest, json_body(TaxExemptRequest)]
TpIdBody = Annotated[PartnerTicketRequest, json_body(PartnerTicketRequest)]
PartnerPriorityBody = Annotated[PartnerPriorityRequest, json_body(PartnerPriorityRequest)]
PartnerCommentBody = Annotated[PartnerCommentRequest, json_body(PartnerCommentRequest)]


@routes.post(NS + "/customer_supports")
async def create_customer_support(
    request: Request, namespace: str, body: CreateBody
) -> JSONResponse:
    return JSONResponse(await create(request, body, namespace=namespace))


@routes.get(NS + "/customer_supports")
async def list_customer_supports(
    request: Request, session: Session, label_filter: str | None = None
) -> JSONResponse:
    """List: the tickets the caller filed."""
    return JSONResponse(await list_call(request, session, own_only=True, label_filter=label_filter))


@routes.get(NS + "/admin/customer_supports")
async def admin_list_customer_supports(
    request: Request, session: Session, label_filter: str | None = None
) -> JSONResponse:
    """AdminList: every ticket of the tenant the caller may see, whoever filed it."""
    return JSONResponse(
        await list_call(request, session, own_only=False, label_filter=label_filter)
    )


@routes.get(NS + "/customer_supports/{name}")
async def get_customer_support(
    request: Request,
    session: Session,
    name: str,
    response_format: Annotated[ResponseFormat, Query()] = ResponseFormat.GET_RSP_FORMAT_DEFAULT,
) -> JSONResponse:
    return JSONResponse(
        await get_answer(request, session, locate=by_name(name), response_format=response_format)
    )


@routes.post(NS + "/customer_support/{name}/close")
async def close_customer_support(request: Request, name: str, body: NameBody) -> JSONResponse:
    return await call(request, name="close", locate=by_name(name), work=close)


@routes.post(NS + "/customer_support/{name}/reopen")
async def reopen_customer_support(request: Request, name: str, body: NameBody) -> JSONResponse:
    return await call(request, name="reopen", locate=by_name(name), work=reopen)


@routes.post(NS + "/customer_support/{name}/escalate")
async def escalate_customer_support(request: Request, name: str, body: NameBody) -> JSONResponse:
    return await call(request, name="escalate", locate=by_name(name), work=escalate)


@routes.post(NS + "/customer_support/{name}/priority")
async def prioritize_customer_support(
    request: Request, name: str, body: PriorityBody
) -> JSONResponse:
    work = new_priority(body.priority)
    return await call(request, name="priority", locate=by_name(name), work=work)


@routes.post(NS + "/customer_support/{name}/comment")
async def comment_customer_support(request: Request, name: str, body: CommentBody) -> JSONResponse:
    return await comment(
        request, locate=by_name(name), text=body.comment, attachments=body.attachments
    )


@routes.post("/api/web/namespaces/system/child_tenant/support_tickets")
async def list_child_tenant_support_tickets(
    request: Request, session: ReadingSession, body: ListSupportBody
) -> JSONResponse:
    """ListCTSupportTickets: the tickets the caller may see with one of these priorities
    and one of these statuses (both required, *_UNKNOWN not allowed)."""
    return JSONResponse(await child_tenant_tickets(request, session, body))


@routes.post("/api/web/namespaces/system/customer_support/tax_exempt_request")
async def raise_tax_exempt_request(request: Request, body: TaxExemptBody) -> JSONResponse:
    """A ticket for billing: the request as its body, the documents attached to it."""
    return JSONResponse(await tax_exempt_request(request, body))


# Partner management: tickets of child tenants, named by tp_id.


@routes.get(PARTNER)
async def list_partner_customer_supports(request: Request, session: Session) -> JSONResponse:
    """Every ticket the caller may see, with its spec."""
    return JSONResponse(await list_call(request, session, own_only=False, with_spec=True))


@routes.post(PARTNER)
async def create_partner_customer_support(request: Request, body: CreateBody) -> JSONResponse:
    return JSONResponse(await create(request, body, namespace=None))


@routes.get(PARTNER + "/{tp_id}")
async def get_partner_customer_support(
    request: Request, session: Session, tp_id: str
) -> JSONResponse:
    answer = await get_answer(
        request,
        session,
        locate=by_tp_id(tp_id),
        response_format=ResponseFormat.GET_RSP_FORMAT_READ,
    )
    return JSONResponse(answer)


@routes.post(PARTNER + "/{tp_id}/close")
async def close_partner_customer_support(
    request: Request, tp_id: str, body: TpIdBody
) -> JSONResponse:
    return await call(request, name="close", locate=by_tp_id(tp_id), work=close)


@routes.post(PARTNER + "/{tp_id}/reopen")
async def reopen_partner_customer_support(
    request: Request, tp_id: str, body: TpIdBody
) -> JSONResponse:
    return await call(request, name="reopen", locate=by_tp_id(tp_id), work=reopen)


@routes.post(PARTNER + "/{tp_id}/escalate")
async def escalate_partner_customer_support(
    request: Request, tp_id: str, body: TpIdBody
) -> JSONResponse:
    return await call(request, name="escalate", locate=by_tp_id(tp_id), work=escalate)


@routes.post(PARTNER + "/{tp_id}/priority")
async def prioritize_partner_customer_support(
    request: Request, tp_id: str, body: PartnerPriorityBody
) -> JSONResponse:
    work = new_priority(body.priority)
    return await call(request, name="priority", locate=by_tp_id(tp_id), work=work)


@routes.post(PARTNER + "/{tp_id}/comment")
async def comment_partner_customer_support(
    request: Request, tp_id: str, body: PartnerCommentBody
) -> JSONResponse:
    return await comment(
        request, locate=by_tp_id(tp_id), text=body.comment, attachments=body.attachments
    )


router = APIRouter()
router.include_router(routes)
router.include_router(routes, prefix=GATEWAY_PREFIX)

FACE = Face(
    name="f5xc",
    router=router,
    path_prefixes=("/api/web/", "/api/v1/api/"),
    render_error=render_error,
    # Create (own and partner), Comment (own and partner) and the tax exemption request,
    # directly and under the gateway prefix.
    file_calls=re.compile(
        r"/(customer_supports|customer_support/[^/]+/comment|customer_supports/[^/]+/comment"
        r"|customer_support/tax_exempt_request)$"
    ),
)
