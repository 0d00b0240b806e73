"""The mail API: a ticket's CC addresses, the message templates (admins), and the log of
messages sent and received (admins)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from helpwire.accounts.models import User
from helpwire.api.deps import (
    AdminOutsideTransaction,
    AdminPrincipal,
    CurrentPrincipal,
    Principal,
    Session,
    StaffPrincipal,
    bearer_or_basic_token,
    read_outside_transaction,
    resolve_caller,
)
from helpwire.api.pagination import cursor_id, encode_cursor
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import MAX_INT64, BigRowId, TicketNumber
from helpwire.mail import cc as cc_service
from helpwire.mail import service
from helpwire.mail.inbound import (
    QUARANTINED,
    REFUSED,
    Outcome,
    Pipeline,
    check_may_hand_over,
)
from helpwire.mail.models import MailMessage, TicketCc
from helpwire.mail.schemas import (
    CcCreate,
    CcOut,
    InboundOut,
    MessageOut,
    MessagePage,
    TemplateIn,
    TemplateOut,
)
from helpwire.mail.templates import MessageTemplate
from helpwire.problems import UnsupportedMediaType, ValidationProblem

router = APIRouter(prefix="/api/v1", tags=["mail"], responses=PROBLEM_RESPONSES)
INBOUND_PATH = "/api/v1/mail/inbound"
RFC822 = "message/rfc822"


async def get_mail_sender(request: Request) -> Principal:
    """A service token of a mail relay (Postmark, Mailgun, SES) named in
    HELPWIRE_MAIL_INBOUND_SERVICES, or an admin's, checked in a short transaction of its
    own: the pipeline opens its own transactions, storing the message before processing
    it."""
    async with read_outside_transaction(request) as session:
        principal = await resolve_caller(
            request, session, token=bearer_or_basic_token(request.headers.get("authorization"))
        )
    check_may_hand_over(principal, pipeline_of(request).config)
    return principal


MailSender = Annotated[Principal, Depends(get_mail_sender)]


def pipeline_of(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.mail_pipeline
    return pipeline


def _outcome_out(outcome: Outcome) -> InboundOut:
    return InboundOut(
        id=outcome.id,
        message_id=outcome.message_id,
        state=outcome.state,
        reason=outcome.reason,
        ticket=outcome.ticket_number,
        comment_id=outcome.comment_id,
        duplicate=outcome.duplicate,
    )


@router.post(
    "/mail/inbound",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=InboundOut,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {RFC822: {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    summary="Hand over one received message, raw (service token); answers what became of it",
)
async def receive_mail(request: Request, _sender: MailSender) -> InboundOut:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != RFC822:
        raise UnsupportedMediaType(f"send the raw message as {RFC822}")
    raw = await request.body()
    if not raw.strip():
        raise ValidationProblem.for_field("body", "the message is empty")
    outcome = await pipeline_of(request).accept(raw, source="http")
    return _outcome_out(outcome)


@router.get(
    "/mail/quarantine",
    response_model=MessagePage,
    summary="Received messages that wait for an admin (quarantined or refused), newest first",
)
async def list_quarantine(
    session: Session,
    _admin: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> MessagePage:
    before_id = None if cursor is None else cursor_id(cursor, key="before", maximum=MAX_INT64)
    rows, more = await service.list_messages(
        session,
        ticket_number=None,
        direction="in",
        states=(QUARANTINED, REFUSED),
        before_id=before_id,
        limit=limit,
    )
    return MessagePage(
        items=[_message_out(*row) for row in rows],
        next_cursor=encode_cursor({"before": rows[-1][0].id}) if more and rows else None,
    )


@router.post(
    "/mail/quarantine/{message_id}/retry",
    response_model=InboundOut,
    summary="Process a received message again (admin), e.g. once its sender is a user",
)
async def retry_message(
    message_id: BigRowId, request: Request, _admin: AdminOutsideTransaction
) -> InboundOut:
    pipeline = pipeline_of(request)
    async with read_outside_transaction(request) as session:
        await service.check_retryable(session, message_id=message_id)
    return _outcome_out(await pipeline.process(message_id, again=True))


@router.get(
    "/mail/messages/{message_id}/original",
    response_class=Response,
    responses={200: {"content": {RFC822: {}}, "description": "The message as it came"}},
    summary="A received message as it came, as a .eml file (staff)",
)
async def download_original(
    message_id: BigRowId, session: Session, _staff: StaffPrincipal
) -> Response:
    return eml_download(message_id, await service.original_of(session, message_id=message_id))


def eml_download(message_id: int, data: bytes) -> Response:
    """A received message as a .eml file to save (the API's and the console's link)."""
    return Response(
        data,
        media_type=RFC822,
        headers={"Content-Disposition": f'attachment; filename="message-{message_id}.eml"'},
    )


async def _cc_out(session: Session, rows: list[TicketCc]) -> list[CcOut]:
    ids = {row.added_by_id for row in rows if row.added_by_id is not None}
    names: dict[int, str] = {}
    if ids:
        found = await session.execute(select(User.id, User.username).where(User.id.in_(ids)))
        names = {user_id: username for user_id, username in found.tuples()}
    return [
        CcOut(
            address=row.address,
            added_by=names.get(row.added_by_id) if row.added_by_id is not None else None,
            created_at=row.created_at,
        )
        for row in rows
    ]


@router.get(
    "/tickets/{number}/cc",
    response_model=list[CcOut],
    summary="The addresses that hear of the ticket's public conversation besides its requester",
)
async def list_cc(number: TicketNumber, session: Session, actor: CurrentPrincipal) -> list[CcOut]:
    rows = await cc_service.list_cc(session, actor=actor, number=number)
    return await _cc_out(session, list(rows))


@router.post(
    "/tickets/{number}/cc",
    response_model=CcOut,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": CcOut, "description": "The address was a CC already"}},
    summary="Add a CC address (staff); adding one that is there already changes nothing",
)
async def add_cc(
    number: TicketNumber, body: CcCreate, session: Session, actor: StaffPrincipal
) -> JSONResponse:
    row, created = await cc_service.add_cc(
        session, actor=actor, number=number, address=body.address
    )
    (out,) = await _cc_out(session, [row])
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


@router.delete(
    "/tickets/{number}/cc/{address}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a CC address (staff); one that is not there is no change",
)
async def remove_cc(
    number: TicketNumber, address: str, session: Session, actor: StaffPrincipal
) -> Response:
    await cc_service.remove_cc(session, actor=actor, number=number, address=address)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _template_out(template: MessageTemplate) -> TemplateOut:
    return TemplateOut(
        kind=template.kind,
        language=template.language,
        subject=template.subject,
        text=template.text,
        html=template.html,
        customized=template.customized,
    )


@router.get(
    "/mail/templates",
    response_model=list[TemplateOut],
    summary="Every message kind in every language, as it is sent now (admin)",
)
async def list_templates(session: Session, _admin: AdminPrincipal) -> list[TemplateOut]:
    return [_template_out(t) for t in await service.list_templates(session)]


@router.get(
    "/mail/templates/{kind}/{language}",
    response_model=TemplateOut,
    summary="One message template (admin)",
)
async def get_template(
    kind: str, language: str, session: Session, _admin: AdminPrincipal
) -> TemplateOut:
    return _template_out(await service.get_template(session, kind=kind, language=language))


@router.put(
    "/mail/templates/{kind}/{language}",
    response_model=TemplateOut,
    summary="Replace a message template (admin); checked by rendering it first",
)
async def put_template(
    kind: str, language: str, body: TemplateIn, session: Session, admin: AdminPrincipal
) -> TemplateOut:
    template = await service.put_template(
        session,
        actor=admin,
        kind=kind,
        language=language,
        subject=body.subject,
        text=body.text,
        html=body.html,
    )
    return _template_out(template)


@router.delete(
    "/mail/templates/{kind}/{language}",
    response_model=TemplateOut,
    summary="Go back to the template shipped with helpwire (admin)",
)
async def reset_template(
    kind: str, language: str, session: Session, _admin: AdminPrincipal
) -> TemplateOut:
    return _template_out(await service.reset_template(session, kind=kind, language=language))


def _message_out(message: MailMessage, number: int | None, state: str | None) -> MessageOut:
    return MessageOut(
        id=message.id,
        direction="in" if message.direction == "in" else "out",
        message_id=message.message_id,
        ticket_number=number,
        kind=message.kind,
        sender=message.sender,
        recipients=list(message.recipients or []),
        cc=list(message.cc or []),
        subject=message.subject,
        language=message.language,
        delivery_id=message.delivery_id,
        delivery_state=state,
        state=message.state,
        reason=message.reason,
        size=message.size,
        created_at=message.created_at,
    )


@router.get(
    "/mail/messages",
    response_model=MessagePage,
    summary="Messages sent and received, newest first (admin)",
)
async def list_messages(
    session: Session,
    _admin: AdminPrincipal,
    ticket: Annotated[TicketNumber | None, Query(description="One ticket's messages.")] = None,
    direction: Literal["in", "out"] | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> MessagePage:
    before_id = None if cursor is None else cursor_id(cursor, key="before", maximum=MAX_INT64)
    rows, more = await service.list_messages(
        session,
        ticket_number=ticket,
        direction=direction,
        states=None,
        before_id=before_id,
        limit=limit,
    )
    return MessagePage(
        items=[_message_out(*row) for row in rows],
        next_cursor=encode_cursor({"before": rows[-1][0].id}) if more and rows else None,
    )
