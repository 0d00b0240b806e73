"""The admin's mail pages: how mail is set up, the messages sent and received, and the
quarantine with its retries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from helpwire.api.deps import Session, get_settings
from helpwire.api.routing import TransactionalRoute
from helpwire.api.types import BigRowId
from helpwire.mail import service
from helpwire.mail.doors import Doors
from helpwire.mail.inbound import QUARANTINED, REFUSED, Pipeline
from helpwire.settings import Settings
from helpwire.web.admin_channels import admin_form_without_transaction
from helpwire.web.auth import AdminWeb, WebContext
from helpwire.web.i18n import translate
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

PAGE_SIZE = 50
# What the page lists: the quarantine (what waits for an admin), all received, all sent.
VIEWS: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "quarantine": ("in", (QUARANTINED, REFUSED)),
    "in": ("in", None),
    "out": ("out", None),
}


def setup_of(settings: Settings) -> dict[str, Any]:
    """The mail settings as an admin may see them: no password, no token."""
    doors = Doors.from_settings(settings)
    smtp = settings.mail_smtp_url.get_secret_value() if settings.mail_smtp_url else None
    mailbox = doors.mailbox
    return {
        "sender": settings.mail_from,
        "smtp": smtp.split("@")[-1].split("?")[0] if smtp else None,
        "plus_addressing": settings.mail_plus_addressing,
        "notify_statuses": settings.mail_notify_statuses,
        "default_language": settings.mail_default_language,
        "imap": f"{mailbox.host}:{mailbox.port}/{mailbox.folder}" if mailbox else None,
        "imap_oauth2": doors.oauth2_token is not None or doors.oauth2_token_file is not None,
        "processed_folder": settings.mail_imap_processed_folder,
        "listen": settings.mail_listen,
        "unknown_senders": settings.mail_unknown_senders,
        "domain_accounts": settings.mail_domain_accounts,
        "default_account": settings.mail_default_account,
        "max_bytes": settings.mail_max_bytes,
        "cc_from_mail": settings.mail_cc_from_mail,
        "sender_limit": settings.mail_sender_limit,
        "inbound_services": settings.mail_inbound_services,
    }


@router.get("/admin/mail")
async def mail_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    view = request.query_params.get("view") or "quarantine"
    if view not in VIEWS:
        view = "quarantine"
    direction, states = VIEWS[view]
    before = request.query_params.get("before") or ""
    rows, more = await service.list_messages(
        session,
        ticket_number=None,
        direction=direction,
        states=states,
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "admin/mail.html",
        setup=setup_of(get_settings(request)),
        view=view,
        rows=rows,
        next_before=rows[-1][0].id if more and rows else None,
        paged=bool(before),
    )


@router.post("/admin/mail/{message_id}/retry")
async def retry(
    message_id: BigRowId,
    request: Request,
    _web: Annotated[WebContext, Depends(admin_form_without_transaction)],
) -> Response:
    """Processed again with no request transaction open: the pipeline opens its own."""
    pipeline: Pipeline = request.app.state.mail_pipeline
    async with pipeline.database.reader() as session:
        await service.check_retryable(session, message_id=message_id)
    outcome = await pipeline.process(message_id, again=True)
    notice = translate(
        request, "Message %(id)s is %(state)s now", id=message_id, state=outcome.state
    )
    if outcome.ticket_number:
        notice += " " + translate(request, "(ticket #%(number)s)", number=outcome.ticket_number)
    if outcome.reason:
        notice += f": {outcome.reason}"
    return redirect("/admin/mail", notice=notice)
