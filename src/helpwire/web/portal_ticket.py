"""A ticket's conversation in the portal, and what a customer does on it: reply, close
with a rating, reopen, rate afterwards, thumbs up or down on a reply from support."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated, TypedDict

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts.actor import Actor
from helpwire.api.deps import Session, get_settings, write_outside_transaction
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import RowId, TicketNumber
from helpwire.problems import NotFound, ValidationProblem
from helpwire.tickets import comments as comment_service
from helpwire.tickets import lifecycle, service
from helpwire.tickets.models import BodyFormat, Comment, Status, Ticket
from helpwire.tickets.schemas import CloseRequest, CommentCreate, ReopenRequest, TicketRatingRequest
from helpwire.tickets.visibility import may_speak_for_ticket
from helpwire.web.auth import CheckedForm, Web, WebContext
from helpwire.web.i18n import translate
from helpwire.web.portal_forms import (
    ACCESS_LEVEL_LABELS,
    FIXABLE,
    customer_actor,
    max_file_megabytes,
    validated,
)
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_files, form_text, is_page_visit, store_form_files
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

# A conversation shows this many messages a page; longer ones page on with ?after=<id>.
COMMENTS_PER_PAGE = 200


def _is_unread(comment: Comment, ticket: Ticket) -> bool:
    """A reply from support the customer side has not seen yet."""
    if not comment.author.is_staff:
        return False
    read_at = ticket.customer_read_at
    return read_at is None or comment.created_at > read_at


def reads_for_customer_side(actor: Actor, ticket: Ticket) -> bool:
    """Whether this reader's visit marks the customer side read. The core keeps one read
    time per side of a ticket (the API and the other faces rely on it), and on the customer
    side it is the requester's: a colleague who may also see the ticket must not clear the
    "New reply" the requester has not seen yet. A service acting for the requester is the
    requester (its actor's user is the requester)."""
    return ticket.requester_id == actor.user.id


def _forms_on_page(ticket: Ticket, comments: Sequence[Comment], *, speaks: bool) -> set[str]:
    """The forms the conversation offers in the ticket's state: the customer is not shown
    a move the lifecycle would refuse."""
    status = Status(ticket.status)
    forms = set()
    if status != Status.CLOSED:
        forms |= {"reply", "close"}
    if status in lifecycle.REOPENABLE:
        forms.add("reopen")
    if speaks:
        if status == Status.CLOSED and ticket.rating_score is None:
            forms.add("rate")
        forms |= {f"comment-{c.id}" for c in comments if c.author.is_staff}
    return forms


async def _conversation_page(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    *,
    number: int,
    after: int | None = None,
    errors: Mapping[str, str] | None = None,
    kept: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> tuple[Response, Ticket]:
    ticket = await service.get_ticket(session, actor=web.actor, number=number)
    comments, more = await comment_service.list_comments(
        session, actor=web.actor, ticket=ticket, after_id=after, limit=COMMENTS_PER_PAGE
    )
    settings = get_settings(request)
    speaks = may_speak_for_ticket(web.actor, ticket)
    forms = _forms_on_page(ticket, comments, speaks=speaks)
    errors = dict(errors or {})
    page = render(
        request,
        "portal/ticket.html",
        status_code=status_code,
        ticket=ticket,
        messages=[(comment, _is_unread(comment, ticket)) for comment in comments],
        later=comments[-1].id if more and comments else None,
        paged=after is not None,
        speaks_for_ticket=speaks,
        forms=forms,
        access_levels=ACCESS_LEVEL_LABELS,
        errors=errors,
        # A message for a form the page does not show (a reply to a ticket closed
        # meanwhile) is shown above the conversation instead.
        page_errors=[message for name, message in errors.items() if name not in forms],
        kept=dict(kept or {}),
        max_files=settings.max_files_per_comment,
        max_file_mb=max_file_megabytes(request),
    )
    return page, ticket


@router.get("/tickets/{number}")
async def conversation(
    request: Request,
    number: TicketNumber,
    session: Session,
    web: Web,
    after: Annotated[RowId | None, Query()] = None,
) -> Response:
    if web.actor.is_staff:
        return redirect(f"/agent/tickets/{number}")
    page, ticket = await _conversation_page(request, session, web, number=number, after=after)
    unread = not service.read_state(ticket)[0]
    if unread and reads_for_customer_side(web.actor, ticket) and is_page_visit(request):
        # Only a visit to the page marks it read, not a fetch of it as an image (see
        # is_page_visit). A GET has a read-only session (on SQLite a plain BEGIN that
        # must not turn into a writer halfway), so the read mark is a small transaction of
        # its own, committed once the page's data is loaded: the page still shows what was
        # new, and the next visit shows it as read. Only when something is unread, so that
        # reading a ticket again writes nothing.
        async with write_outside_transaction(request) as writer:
            await service.mark_read(writer, actor=web.actor, number=number)
    return page


Action = Callable[[], Awaitable[str]]


async def _act_on_ticket(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    *,
    number: int,
    form_name: str,
    kept: Mapping[str, str],
    action: Action,
    anchor: str = "",
) -> Response:
    """Runs one of the page's actions and goes back to the page with its notice; a mistake
    the customer can fix shows the page again with the message at the form and their text
    kept, and changes nothing (web.refusable)."""
    try:
        async with refusable(request, session):
            notice = await action()
    except FIXABLE as problem:
        page, _ticket = await _conversation_page(
            request,
            session,
            web,
            number=number,
            errors={form_name: problem.detail},
            kept=kept,
            status_code=problem.status,
        )
        return page
    return redirect(f"/tickets/{number}" + (f"#{anchor}" if anchor else ""), notice=notice)


class _Message(TypedDict):
    body: str
    body_format: BodyFormat
    file_ids: list[str]
    max_files: int


async def _message(
    request: Request,
    session: AsyncSession,
    actor: Actor,
    form: FormData,
    model: type[CommentCreate] | type[ReopenRequest],
    body: str,
) -> _Message:
    """A customer's Markdown message with its files, checked by the API's own model and
    the files stored: what a reply and a reopening both hand to the service."""
    checked = validated(model, request, body=body, body_format=BodyFormat.MARKDOWN)
    return _Message(
        body=checked.body,
        body_format=checked.body_format,
        file_ids=await store_form_files(request, session, actor=actor, uploads=form_files(form)),
        max_files=get_settings(request).max_files_per_comment,
    )


@router.post("/tickets/{number}/reply")
async def reply(
    request: Request, number: TicketNumber, session: Session, web: Web, form: CheckedForm
) -> Response:
    actor = customer_actor(web)
    body = form_text(form, "body")

    async def send() -> str:
        message = await _message(request, session, actor, form, CommentCreate, body)
        await service.add_comment(session, actor=actor, number=number, **message)
        return translate(request, "Your reply is sent.")

    return await _act_on_ticket(
        request, session, web, number=number, form_name="reply", kept={"reply": body}, action=send
    )


def _optional_score(form: FormData) -> str | None:
    """The chosen rating; None when no radio button was chosen."""
    value = form_text(form, "score").strip()
    return value or None


@router.post("/tickets/{number}/close")
async def close(
    request: Request, number: TicketNumber, session: Session, web: Web, form: CheckedForm
) -> Response:
    actor = customer_actor(web)
    comment = form_text(form, "comment")

    async def close_it() -> str:
        checked = validated(
            CloseRequest, request, score=_optional_score(form), comment=comment.strip() or None
        )
        await service.close_ticket(
            session, actor=actor, number=number, score=checked.score, comment=checked.comment
        )
        if checked.score:
            return translate(request, "The ticket is closed. Thank you for rating it.")
        return translate(request, "The ticket is closed. Thank you.")

    return await _act_on_ticket(
        request,
        session,
        web,
        number=number,
        form_name="close",
        kept={"close": comment},
        action=close_it,
    )


@router.post("/tickets/{number}/reopen")
async def reopen(
    request: Request, number: TicketNumber, session: Session, web: Web, form: CheckedForm
) -> Response:
    actor = customer_actor(web)
    body = form_text(form, "body")

    async def reopen_it() -> str:
        message = await _message(request, session, actor, form, ReopenRequest, body)
        await service.reopen_ticket(session, actor=actor, number=number, **message)
        return translate(request, "The ticket is open again.")

    return await _act_on_ticket(
        request,
        session,
        web,
        number=number,
        form_name="reopen",
        kept={"reopen": body},
        action=reopen_it,
    )


@router.post("/tickets/{number}/rate")
async def rate(
    request: Request, number: TicketNumber, session: Session, web: Web, form: CheckedForm
) -> Response:
    actor = customer_actor(web)
    comment = form_text(form, "comment")

    async def rate_it() -> str:
        checked = validated(
            TicketRatingRequest,
            request,
            score=_optional_score(form),
            comment=comment.strip() or None,
        )
        await service.rate_ticket(
            session, actor=actor, number=number, score=checked.score, comment=checked.comment
        )
        return translate(request, "Thank you for rating the ticket.")

    return await _act_on_ticket(
        request,
        session,
        web,
        number=number,
        form_name="rate",
        kept={"rate": comment},
        action=rate_it,
    )


# The thumbs buttons post +1 or -1 (rate_comment's scores).
_THUMBS = {"1": 1, "+1": 1, "-1": -1}


@router.post("/tickets/{number}/comments/{comment_id}/rate")
async def rate_reply(
    request: Request,
    number: TicketNumber,
    comment_id: RowId,
    session: Session,
    web: Web,
    form: CheckedForm,
) -> Response:
    actor = customer_actor(web)

    async def thumb() -> str:
        score = _THUMBS.get(form_text(form, "score").strip())
        if score is None:
            raise ValidationProblem.for_field(
                "score", translate(request, "Choose thumbs up or thumbs down.")
            )
        ticket = await service.get_ticket(session, actor=actor, number=number)
        comment = await comment_service.get_comment(session, actor=actor, comment_id=comment_id)
        if comment.ticket_id != ticket.id:
            raise NotFound(f"ticket {number} has no comment {comment_id}")
        await comment_service.rate_comment(
            session, actor=actor, comment_id=comment_id, score=score, comment_text=None
        )
        return translate(request, "Thank you: your feedback on the reply is saved.")

    return await _act_on_ticket(
        request,
        session,
        web,
        number=number,
        form_name=f"comment-{comment_id}",
        kept={},
        action=thumb,
        anchor=f"comment-{comment_id}",
    )
