"""The agent console: queues with live counts, the ticket list, and the ticket page with
its reply, properties and escalation forms. Agents and admins only (customers get 403)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts.actor import Actor
from helpwire.api.deps import Session, get_settings, write_outside_transaction
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import BigRowId, RowId, TicketNumber
from helpwire.groups.service import list_groups
from helpwire.mail.cc import add_cc, cc_of, remove_cc
from helpwire.mail.routes import eml_download
from helpwire.mail.service import original_of, received_for_comments
from helpwire.presence import service as presence
from helpwire.problems import NotFound, PreconditionFailed, Problem, ValidationProblem
from helpwire.rules import macros
from helpwire.tickets.followers import follow, followers_of, unfollow
from helpwire.tickets.groups import open_counts_by_group
from helpwire.tickets.lifecycle import can_escalate
from helpwire.tickets.listing import list_tickets
from helpwire.tickets.models import BodyFormat, Priority, Status, Ticket, TicketType
from helpwire.tickets.moving import can_move, merge_ticket, related_tickets, split_ticket
from helpwire.tickets.queues import QUEUES, queue_counts, shown_counts
from helpwire.tickets.schemas import MAX_BODY_CHARS
from helpwire.tickets.service import (
    add_comment,
    escalate_ticket,
    get_ticket,
    mark_read,
    read_state,
    update_ticket,
)
from helpwire.topics.service import list_topics
from helpwire.web.auth import CheckedForm, StaffWeb, WebContext
from helpwire.web.console_bulk import NOBODY, bulk_choices
from helpwire.web.console_list import SORTS, read_list_request
from helpwire.web.console_presence import BEAT_EVERY_MS
from helpwire.web.console_ticket import (
    TicketView,
    field_changes,
    link_or_text,
    load_surroundings,
    load_view,
    posted_properties,
    properties_of,
    property_changes,
    staff_users,
    ticket_fields,
    topic_options,
    validated_update,
)
from helpwire.web.console_views import sidebar_views
from helpwire.web.i18n import N_, locale_of, rendering_for, translate
from helpwire.web.languages import request_languages
from helpwire.web.portal_forms import FIXABLE, max_file_megabytes
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_files, form_text, is_page_visit, store_form_files
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

STALE_MESSAGE = N_(
    "Someone changed this ticket since you opened it, so nothing was saved. "
    "The page now shows the ticket as it is: check it and make your changes again."
)
UNSAID_KIND = N_(
    "Nothing was sent: say whether this is a reply to the customer or an internal note, "
    "with the “Send reply” or the “Add internal note” button."
)
FILES_AGAIN = N_("(Files, if any, need choosing again.)")
REPLIED_MEANWHILE = N_(
    "Nothing was sent: someone wrote on this ticket since you opened it. Read what is new "
    "above, then send your text as it is or change it first."
)
# The reply box's "Send as ..." buttons: a reply, then the ticket in that status.
SEND_AS = {status.value: status for status in (Status.OPEN, Status.PENDING, Status.SOLVED)}
CHOICES = {
    "statuses": [s.value for s in Status],
    "priorities": [p.value for p in Priority],
    "types": [t.value for t in TicketType],
    "sorts": [s.value for s in SORTS],
}


@router.get("/agent")
async def console(request: Request, session: Session, web: StaffWeb) -> HTMLResponse:
    with rendering_for(locale_of(request)):
        wanted = read_list_request(request.query_params)
    errors = list(wanted.errors)
    tickets: list[Ticket] = []
    next_cursor = None
    if not errors:
        try:
            tickets, next_cursor = await list_tickets(
                session,
                actor=web.actor,
                filters=wanted.filters,
                sort=wanted.sort,
                order=wanted.order,
                limit=wanted.limit,
                cursor=wanted.cursor,
            )
        except ValidationProblem as problem:  # a stale cursor, a search without words
            errors.append(problem.detail)
    counts = await queue_counts(session, actor=web.actor)
    open_by_group = await open_counts_by_group(session)
    team_queues = [
        {"key": g.key, "name": g.name, "open": open_by_group.get(g.id, 0)}
        for g in await list_groups(session, include_inactive=False)
    ]
    return render(
        request,
        "console/queue.html",
        team_queues=team_queues,
        status_code=422 if errors else 200,
        queues=QUEUES,
        current_queue=wanted.queue.name if wanted.queue else None,
        counts=shown_counts(counts),
        tickets=tickets,
        next_cursor=next_cursor,
        paged=wanted.cursor is not None,
        form=wanted.form(),
        filters_refined=wanted.refined,
        errors=errors,
        topics=await list_topics(session),
        staff=await staff_users(session),
        choices=CHOICES,
        bulk=await bulk_choices(session, actor=web.actor),
        nobody=NOBODY,
        views=await sidebar_views(session, actor=web.actor),
        current_view=request.query_params.get("view"),
    )


@router.get("/agent/counts")
async def counts(session: Session, web: StaffWeb) -> JSONResponse:
    """The queue counts for the console's live refresh."""
    found = await queue_counts(session, actor=web.actor)
    return JSONResponse(shown_counts(found), headers={"Cache-Control": "no-store"})


async def _view_marking_read(request: Request, *, actor: Actor, ticket: Ticket) -> TicketView:
    """The ticket view, with support's read mark set.

    A GET's session only reads (and on SQLite may not write at all), so the mark is made
    in a short writing transaction of its own, and the ticket and its timeline are read in
    that same transaction: the ETag the page carries for If-Match is then the one of the
    marked ticket (the read mark is part of it), and describes exactly what is shown."""
    async with write_outside_transaction(request) as writer:
        marked = await mark_read(writer, actor=actor, number=ticket.number)
        return await load_view(writer, actor=actor, ticket=marked, read_before=ticket.agent_read_at)


async def _ticket_page(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    view: TicketView,
    *,
    status_code: int = 200,
    properties: dict[str, str] | None = None,
    property_errors: list[str] | None = None,
    draft: str = "",
    comment_errors: list[str] | None = None,
    cc_errors: list[str] | None = None,
    macro_errors: list[str] | None = None,
    move_errors: list[str] | None = None,
    meanwhile: Sequence[presence.Written] = (),
) -> HTMLResponse:
    ticket = view.ticket
    around = await load_surroundings(session, actor=web.actor, ticket=ticket)
    macro_q = (request.query_params.get("macro_q") or "").strip()[:200]
    found_macros = await macros.list_macros(session, actor=web.actor, q=macro_q or None, limit=50)
    macro_preview = await _macro_preview(request, session, web, ticket.number)
    comment_ids = [entry.comment.id for entry in view.timeline if entry.comment is not None]
    # The newest comment the page shows, which the reply form sends back: one written
    # after it by someone else stops the reply until the agent has read it.
    seen_comment = (
        max(comment_ids, default=0)
        if not view.paged_back
        else await presence.newest_comment_id(session, ticket=ticket)
    )
    properties = properties or properties_of(ticket)
    location, location_is_link = link_or_text((ticket.context or {}).get("location"))
    return render(
        request,
        "console/ticket.html",
        status_code=status_code,
        ticket=ticket,
        view=view,
        around=around,
        properties=properties,
        topic_options=topic_options(
            around.topics, ticket, properties["topic"], request_languages(request)
        ),
        property_errors=property_errors or [],
        draft=draft,
        comment_errors=comment_errors or [],
        location=location,
        location_is_link=location_is_link,
        can_escalate=can_escalate(
            Status(ticket.status), priority=Priority(ticket.priority), escalated=ticket.escalated
        ),
        max_files=get_settings(request).max_files_per_comment,
        max_file_mb=max_file_megabytes(request),
        choices=CHOICES,
        cc=await cc_of(session, ticket=ticket),
        cc_errors=cc_errors or [],
        mail_of=await received_for_comments(session, comment_ids=comment_ids),
        macro_q=macro_q,
        found_macros=found_macros,
        macro_preview=macro_preview,
        macro_errors=macro_errors or [],
        **await _moves_and_followers(request, session, web, view, move_errors or []),
        seen_comment=seen_comment,
        meanwhile=meanwhile,
        beat_every_ms=BEAT_EVERY_MS,
        custom_fields=await ticket_fields(session, ticket=ticket),
    )


async def _moves_and_followers(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    view: TicketView,
    move_errors: list[str],
) -> dict[str, Any]:
    """What the page shows of merges, splits and followers: the tickets this one is linked
    with, who follows it, and the merge to confirm (``merge_into`` in the query) if any."""
    ticket = view.ticket
    merge_target, merge_problem = await _merge_target(request, session, web, ticket)
    following = await followers_of(session, ticket=ticket)
    return {
        "related": await related_tickets(session, actor=web.actor, ticket=ticket),
        "followers": following,
        "following": any(row.user_id == web.actor.user.id for row in following),
        "movable": can_move(ticket),
        "merge_target": merge_target,
        "move_errors": [*move_errors, *([merge_problem] if merge_problem else [])],
    }


async def _merge_target(
    request: Request, session: AsyncSession, web: WebContext, ticket: Ticket
) -> tuple[Ticket | None, str | None]:
    """The ticket the merge form named, to confirm the merge into; or why there is none."""
    raw = (request.query_params.get("merge_into") or "").strip().lstrip("#")
    if not raw:
        return None, None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        return None, translate(request, "Type the number of the ticket to merge into.")
    if int(raw) == ticket.number:
        return None, translate(request, "A ticket cannot be merged into itself.")
    try:
        return await get_ticket(session, actor=web.actor, number=int(raw)), None
    except NotFound:
        return None, translate(request, "There is no ticket #%(number)s.", number=raw)


def _macro_id(raw: str) -> int | None:
    """A macro's id as a page sends it: short ASCII digits (int() would take "²")."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None


async def _macro_preview(
    request: Request, session: AsyncSession, web: WebContext, number: int
) -> macros.Applied | None:
    """The macro the query names (``macro``), rendered for this ticket; None when none is
    named or it is not one the agent may use."""
    macro_id = _macro_id(request.query_params.get("macro") or "")
    if macro_id is None:
        return None
    try:
        return await macros.apply_macro(
            session, actor=web.actor, number=number, macro_id=macro_id, preview=True
        )
    except NotFound:
        return None


@router.get("/agent/tickets/{number}")
async def ticket_page(
    number: TicketNumber,
    request: Request,
    session: Session,
    web: StaffWeb,
    before: RowId | None = None,
) -> HTMLResponse:
    """The ticket with its newest messages, or with the ones before comment ``before``;
    ``macro_q`` finds macros and ``macro`` previews one (read from the query by
    _ticket_page)."""
    ticket = await get_ticket(session, actor=web.actor, number=number)
    _customer_read, support_read = read_state(ticket)
    # Only the newest messages, seen as a page, mark the ticket read.
    if support_read or not is_page_visit(request) or before is not None:
        view = await load_view(
            session,
            actor=web.actor,
            ticket=ticket,
            read_before=ticket.agent_read_at,
            before=before,
        )
    else:
        view = await _view_marking_read(request, actor=web.actor, ticket=ticket)
    return await _ticket_page(request, session, web, view)


async def _refused_page(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    number: int,
    *,
    status_code: int,
    properties: dict[str, str] | None = None,
    property_errors: list[str] | None = None,
    draft: str = "",
    comment_errors: list[str] | None = None,
    cc_errors: list[str] | None = None,
    macro_errors: list[str] | None = None,
    move_errors: list[str] | None = None,
    meanwhile: Sequence[presence.Written] = (),
) -> HTMLResponse:
    """The ticket page again, as it is now, with why the form was refused."""
    ticket = await get_ticket(session, actor=web.actor, number=number)
    view = await load_view(
        session, actor=web.actor, ticket=ticket, read_before=ticket.agent_read_at
    )
    return await _ticket_page(
        request,
        session,
        web,
        view,
        status_code=status_code,
        properties=properties,
        property_errors=property_errors,
        draft=draft,
        comment_errors=comment_errors,
        cc_errors=cc_errors,
        macro_errors=macro_errors,
        move_errors=move_errors,
        meanwhile=meanwhile,
    )


async def _written_meanwhile(
    session: AsyncSession, web: WebContext, number: int, form: FormData
) -> Sequence[presence.Written]:
    """What others wrote after the newest comment the agent's page showed (the form's
    ``seen_comment``), unless the agent chose to send anyway. A form without the field
    (a script's post) is not checked: it says nothing of what was seen."""
    seen = _comment_id(form_text(form, "seen_comment"))
    if seen is None or form_text(form, "send_anyway") == "1":
        return ()
    return await presence.replied_meanwhile(
        session, actor=web.actor, number=number, seen_comment_id=seen
    )


def _comment_id(raw: str) -> int | None:
    """A comment id as a page sends it (short ASCII digits), 0 for "none yet"."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


@router.post("/agent/tickets/{number}/comment")
async def comment(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    body = form_text(form, "body")
    # Which button was pressed must be said: a form sent without its submit button (an
    # implicit or scripted submit) must not turn a note meant for agents into a reply
    # the customer sees. "Send as pending" (and solved, open) is a reply and a status.
    kind = form_text(form, "internal")
    send_as = SEND_AS.get(form_text(form, "send_as"))
    if send_as is not None:
        kind = "0"
    internal = kind == "1"
    problem = (
        translate(request, UNSAID_KIND)
        if kind not in ("0", "1")
        else translate(request, "Write something first.")
        if not body.strip()
        else translate(request, "At most %(n)s characters.", n=MAX_BODY_CHARS)
        if len(body) > MAX_BODY_CHARS
        else None
    )
    files_again = translate(request, FILES_AGAIN)
    if problem is not None:
        # Checked before any file is stored: nothing to undo.
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=422,
            draft=body[:MAX_BODY_CHARS],
            comment_errors=[problem + " " + files_again],
        )
    meanwhile = await _written_meanwhile(session, web, number, form)
    if meanwhile:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=409,
            draft=body,
            comment_errors=[translate(request, REPLIED_MEANWHILE) + " " + files_again],
            meanwhile=meanwhile,
        )
    try:
        # What the service refuses (the ticket was closed meanwhile, a file too large)
        # leaves nothing behind, and the page comes back with the agent's text.
        async with refusable(request, session):
            file_ids = await store_form_files(
                request, session, actor=web.actor, uploads=form_files(form, "files")
            )
            _ticket, written = await add_comment(
                session,
                actor=web.actor,
                number=number,
                body=body,
                body_format=BodyFormat.MARKDOWN,
                internal=internal,
                file_ids=file_ids,
                max_files=get_settings(request).max_files_per_comment,
                status=send_as,
            )
    except FIXABLE as refused:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=refused.status,
            draft=body,
            comment_errors=[
                _sentence(refused.detail)
                + " "
                + translate(request, "Nothing was sent.")
                + " "
                + files_again
            ],
        )
    notice = (
        translate(request, "Internal note added.")
        if internal
        else translate(request, "Reply sent.")
    )
    if send_as is not None:
        notice = translate(
            request,
            "Reply sent; the ticket is %(status)s now.",
            status=translate(request, send_as.value.capitalize()),
        )
    return redirect(f"/agent/tickets/{number}#comment-{written.id}", notice=notice)


def _sentence(text: str) -> str:
    """A service's message ("the ticket is closed ...") as a sentence of the page."""
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")


@router.post("/agent/tickets/{number}/update")
async def update(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    # Locked first: the changes are worked out against the very state the service then
    # checks the form's ETag against (its own locking read returns this same object).
    ticket = await get_ticket(session, actor=web.actor, number=number, for_update=True)
    current = properties_of(ticket)
    posted = posted_properties(form, current)
    changes = property_changes(form, current)
    if fields := field_changes(form, await ticket_fields(session, ticket=ticket)):
        changes["fields"] = fields
    wanted, errors = validated_update(changes)
    if wanted is None:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=422,
            properties=posted,
            property_errors=errors,
        )
    if not changes:
        return redirect(f"/agent/tickets/{number}", notice=translate(request, "Nothing to change."))
    # The form's ETag is required: without it two agents could overwrite each other.
    seen = form_text(form, "etag") or '"none"'
    try:
        # If the service refuses halfway, none of its changes stay, and the page can be
        # shown again with the reason.
        async with refusable(request, session):
            await update_ticket(
                session, actor=web.actor, number=number, changes=wanted, if_match=seen
            )
    except PreconditionFailed:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=409,
            property_errors=[translate(request, STALE_MESSAGE)],
        )
    except Problem as refused:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=refused.status,
            properties=posted,
            property_errors=[refused.detail],
        )
    saved = translate(request, "Saved: %(fields)s", fields=", ".join(sorted(changes)))
    return redirect(f"/agent/tickets/{number}", notice=saved)


@router.post("/agent/tickets/{number}/macro")
async def apply_macro(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    macro_id = _macro_id(form_text(form, "macro_id"))
    if macro_id is None:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=422,
            macro_errors=[translate(request, "Choose a macro.")],
        )
    try:
        async with refusable(request, session):
            applied = await macros.apply_macro(
                session,
                actor=web.actor,
                number=number,
                macro_id=macro_id,
                preview=False,
                mail=getattr(request.app.state, "mail", None),
            )
    except Problem as refused:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=refused.status,
            macro_errors=[_sentence(refused.detail)],
        )
    anchor = f"#comment-{applied.comment.id}" if applied.comment is not None else ""
    return redirect(f"/agent/tickets/{number}{anchor}", notice=translate(request, "Macro applied."))


@router.post("/agent/tickets/{number}/escalate")
async def escalate(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    await escalate_ticket(session, actor=web.actor, number=number)
    notice = translate(request, "Escalated: the ticket is urgent now.")
    return redirect(f"/agent/tickets/{number}", notice=notice)


@router.post("/agent/tickets/{number}/cc")
async def add_cc_address(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    address = form_text(form, "address")
    try:
        async with refusable(request, session):
            row, added = await add_cc(session, actor=web.actor, number=number, address=address)
    except ValidationProblem as refused:
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=422,
            cc_errors=[_sentence(refused.detail.removeprefix("address: "))],
        )
    notice = (
        translate(request, "%(address)s hears of this ticket now.", address=row.address)
        if added
        else translate(request, "That address was a CC.")
    )
    return redirect(f"/agent/tickets/{number}#cc-title", notice=notice)


@router.post("/agent/tickets/{number}/cc/remove")
async def remove_cc_address(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    address = form_text(form, "address")
    await remove_cc(session, actor=web.actor, number=number, address=address)
    notice = translate(request, "%(address)s was removed.", address=address)
    return redirect(f"/agent/tickets/{number}#cc-title", notice=notice)


# The most of a message shown on its page; the download has all of it.
SHOWN_ORIGINAL_BYTES = 512 * 1024


@router.get("/agent/mail/{message_id}")
async def original_page(
    message_id: BigRowId, request: Request, session: Session, _web: StaffWeb
) -> HTMLResponse:
    """A received message as it came, shown as text (escaped: it is whatever was sent)."""
    data = await original_of(session, message_id=message_id)
    shown = data[:SHOWN_ORIGINAL_BYTES].decode("utf-8", errors="replace")
    return render(
        request,
        "console/mail_original.html",
        message_id=message_id,
        source=shown,
        size=len(data),
        cut=len(data) > SHOWN_ORIGINAL_BYTES,
    )


@router.get("/agent/mail/{message_id}/original")
async def original_message(message_id: BigRowId, session: Session, _web: StaffWeb) -> Response:
    """A received message as it came, to download (.eml)."""
    return eml_download(message_id, await original_of(session, message_id=message_id))


async def _move_refused(
    request: Request,
    session: AsyncSession,
    web: WebContext,
    number: int,
    refused: Problem,
    *,
    field: str,
    nothing: str,
) -> HTMLResponse:
    """The ticket page again with why a merge or split was refused (the service's words,
    without the field name they start with) and that nothing moved."""
    reason = _sentence(refused.detail.removeprefix(f"{field}: "))
    return await _refused_page(
        request,
        session,
        web,
        number,
        status_code=refused.status,
        move_errors=[reason + " " + translate(request, nothing)],
    )


@router.post("/agent/tickets/{number}/merge")
async def merge(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    """The confirmed merge: the page asked first (``merge_into`` in its query)."""
    into = form_text(form, "into").strip().lstrip("#")
    if not (into.isascii() and into.isdigit() and len(into) <= 18):
        return await _refused_page(
            request,
            session,
            web,
            number,
            status_code=422,
            move_errors=[translate(request, "Type the number of the ticket to merge into.")],
        )
    try:
        async with refusable(request, session):
            _merged, target = await merge_ticket(
                session, actor=web.actor, number=number, into=int(into)
            )
    except FIXABLE as refused:
        return await _move_refused(
            request, session, web, number, refused, field="into", nothing=N_("Nothing was merged.")
        )
    return redirect(
        f"/agent/tickets/{target.number}",
        notice=translate(
            request, "#%(number)s was merged into this ticket and closed.", number=number
        ),
    )


@router.post("/agent/tickets/{number}/split")
async def split(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    chosen = [value for value in form.getlist("comment_ids") if isinstance(value, str)]
    comment_ids = [int(v) for v in chosen if v.isascii() and v.isdigit() and len(v) <= 9]
    subject = form_text(form, "subject").strip()[:255] or None
    problem = (
        translate(request, "Tick the messages to split off into a new ticket.")
        if not chosen
        else translate(request, "Those messages are not this ticket's.")
        if len(comment_ids) != len(chosen)
        else None
    )
    if problem is not None:
        return await _refused_page(
            request, session, web, number, status_code=422, move_errors=[problem]
        )
    try:
        async with refusable(request, session):
            _source, new = await split_ticket(
                session,
                actor=web.actor,
                number=number,
                comment_ids=comment_ids,
                subject=subject,
                via="web",
            )
    except FIXABLE as refused:
        return await _move_refused(
            request,
            session,
            web,
            number,
            refused,
            field="comment_ids",
            nothing=N_("Nothing was split."),
        )
    return redirect(
        f"/agent/tickets/{new.number}",
        notice=translate(request, "Split off #%(number)s into this new ticket.", number=number),
    )


@router.post("/agent/tickets/{number}/follow")
async def follow_ticket(
    number: TicketNumber, request: Request, session: Session, web: StaffWeb, form: CheckedForm
) -> Response:
    ticket = await get_ticket(session, actor=web.actor, number=number, for_update=True)
    if form_text(form, "follow") == "0":
        await unfollow(session, actor=web.actor, ticket=ticket)
        notice = translate(request, "You no longer follow this ticket.")
    else:
        await follow(session, actor=web.actor, ticket=ticket)
        notice = translate(request, "You follow this ticket: it is in your Following queue.")
    return redirect(f"/agent/tickets/{number}#followers-title", notice=notice)
