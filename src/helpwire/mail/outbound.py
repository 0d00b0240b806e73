"""Mail to a ticket's requester and CCs, written in the transaction of the change it tells
of and sent by the relay (notify) like every other notification: retried, logged per
attempt, listed in the delivery log, never lost.

A subscriber (db/subscribers.py) of comment.created and ticket.status_changed, registered
by helpwire.assembly when HELPWIRE_MAIL_SMTP_URL is set. A public comment by staff is
mailed ("reply"), a ticket solved ("solved", with signed rating links), and the status
changes HELPWIRE_MAIL_NOTIFY_STATUSES names ("status"). Internal notes never are, and no
one is sent what they did themselves: a customer's own comments and changes are not
echoed back to them.

The message is rendered here, whole, and kept in the delivery: every attempt sends the
same bytes, and the relay needs nothing but the SMTP server to send it. Each message gets
a Message-ID of ours and answers the ticket's previous message (In-Reply-To, References),
with a subject that stays ``[#N] subject``, so that mail programs keep the conversation in
one thread; Reply-To carries the ticket (``support+<token>@domain``) for mail that comes
back without those headers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import User
from helpwire.db.base import utcnow
from helpwire.db.secrets import SecretBox, box_for
from helpwire.db.subscribers import Subscriber
from helpwire.files.models import File
from helpwire.mail.channel import mail_channel_id
from helpwire.mail.config import MailConfig
from helpwire.mail.models import MailMessage, TicketCc
from helpwire.mail.templates import (
    MessageTemplate,
    RenderedMessage,
    TemplateProblem,
    language_for,
    render,
    shipped_template,
    template_for,
    words,
)
from helpwire.mail.tokens import new_message_id, rating_signature, reply_address
from helpwire.notify.models import Delivery, DeliveryState
from helpwire.notify.outbox import announce
from helpwire.notify.outbox import new_message_id as new_delivery_id
from helpwire.notify.payloads import ticket_path
from helpwire.notify.senders import MAIL_POLICY
from helpwire.tickets.events import EventType
from helpwire.tickets.models import Comment, Event, Status, Ticket

log = logging.getLogger(__name__)

MAIL_EVENT_TYPE = "mail.message"
EVENT_TYPES = (EventType.COMMENT_CREATED.value, EventType.TICKET_STATUS_CHANGED.value)
# References names the thread's first message and its latest ones: enough for every mail
# program to thread, without a header that grows with a long conversation.
REFERENCES_KEPT = 10
RATING_SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Recipients:
    to: list[str]
    cc: list[str]
    # Whom the message speaks to (the requester, or the first CC without one).
    name: str

    @property
    def everyone(self) -> list[str]:
        return [*self.to, *self.cc]


def subscriber(config: MailConfig) -> Subscriber:
    """The subscriber that mails a ticket's people as ``config`` says."""

    async def mail_the_ticket_people(
        session: AsyncSession, *, event: Event, ticket: Ticket
    ) -> None:
        await on_event(session, event=event, ticket=ticket, config=config)

    return mail_the_ticket_people


async def on_event(
    session: AsyncSession, *, event: Event, ticket: Ticket, config: MailConfig
) -> MailMessage | None:
    """Queue the mail ``event`` calls for, if any; the message row written."""
    kind, comment = await _kind_of(session, event, config)
    if kind is None:
        return None
    recipients = await _recipients(session, ticket, actor=event.actor)
    if not recipients.everyone:
        return None
    language = language_for(ticket.requester.language, config.default_language)
    template = await template_for(session, kind, language)
    box = box_for(session.get_bind().dialect)
    context = _context(
        config, box, ticket=ticket, comment=comment, language=language, name=recipients.name
    )
    rendered = render_or_shipped(template, context)
    return await _queue(
        session,
        box,
        config=config,
        ticket=ticket,
        event=event,
        kind=kind,
        comment=comment,
        recipients=recipients,
        rendered=_with_number(rendered, ticket.number),
        language=language,
    )


def render_or_shipped(template: MessageTemplate, context: dict[str, Any]) -> RenderedMessage:
    """``template`` rendered; the shipped one where an admin's version fails on these
    values (it was checked on sample values when saved, but a real message may differ):
    a broken template must not stop the change the mail tells of."""
    try:
        return render(template, context)
    except TemplateProblem:
        if not template.customized:
            raise
        log.exception(
            "an admin's mail template failed; the shipped one was used",
            extra={"kind": template.kind, "language": template.language},
        )
        return render(shipped_template(template.kind, template.language), context)


async def _kind_of(
    session: AsyncSession, event: Event, config: MailConfig
) -> tuple[str | None, Comment | None]:
    """Which message the event calls for: ``reply``, ``solved``, ``status`` or none."""
    actor = event.actor
    if event.type == EventType.COMMENT_CREATED:
        comment_id = (event.data or {}).get("comment_id")
        if event.internal or actor is None or not actor.is_staff or not isinstance(comment_id, int):
            return None, None
        return "reply", await session.get(Comment, comment_id)
    if event.type == EventType.TICKET_STATUS_CHANGED:
        after = str((event.data or {}).get("after"))
        if after not in config.notify_statuses:
            return None, None
        return ("solved" if after == Status.SOLVED else "status"), None
    return None, None


async def _recipients(session: AsyncSession, ticket: Ticket, *, actor: User | None) -> Recipients:
    """The requester (To) and the CC addresses, leaving out whoever made the change."""
    own = (actor.email or "").lower() if actor is not None else ""
    requester = ticket.requester
    to: list[str] = []
    if requester.email and requester.is_active and requester.email.lower() != own:
        to.append(requester.email)
    rows = await session.scalars(
        select(TicketCc.address).where(TicketCc.ticket_id == ticket.id).order_by(TicketCc.id)
    )
    taken = {address.lower() for address in to} | {own}
    cc = [address for address in rows if address.lower() not in taken]
    if not to and cc:
        to, cc = cc[:1], cc[1:]
    name = requester.real_name or requester.username if to and to[0] == requester.email else ""
    return Recipients(to=to, cc=cc, name=name)


def _context(
    config: MailConfig,
    box: SecretBox,
    *,
    ticket: Ticket,
    comment: Comment | None,
    language: str,
    name: str,
) -> dict[str, Any]:
    texts = words(language)
    context: dict[str, Any] = {
        "marker": texts["marker"],
        "recipient": {"name": name},
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "status": texts["statuses"].get(ticket.status, ticket.status),
            "priority": ticket.priority,
            "url": config.base_url + ticket_path(ticket.number),
        },
        "comment": None,
        "rating": [],
    }
    if comment is not None:
        attached = set(id(file) for file in attachable(config, comment))
        context["comment"] = {
            "author": comment.author.real_name or comment.author.username,
            "text": comment.body,
            "html": comment.body_html,
            "files": [file.filename for file in comment.files],
            "attached": [file.filename for file in comment.files if id(file) in attached],
            "linked": [
                {
                    "name": file.filename,
                    "url": f"{config.base_url}/files/{file.id}/{quote(file.filename)}",
                }
                for file in comment.files
                if id(file) not in attached
            ],
        }
    if ticket.status == Status.SOLVED:
        context["rating"] = _rating_links(config, box, ticket, texts["ratings"])
    return context


def attachable(config: MailConfig, comment: Comment) -> list[File]:
    """The comment's files that go with its mail, in order, while their sizes add up to
    no more than HELPWIRE_MAIL_ATTACHMENTS_MAX_BYTES; the others are linked."""
    chosen: list[File] = []
    room = config.attachments_max_bytes
    for file in comment.files:
        if file.size <= room:
            chosen.append(file)
            room -= file.size
    return chosen


def _rating_links(
    config: MailConfig, box: SecretBox, ticket: Ticket, labels: dict[int, str]
) -> list[dict[str, Any]]:
    """One link per score, signed for the requester: following one records that score."""
    signature = rating_signature(box, uid=ticket.uid, user_id=ticket.requester_id)
    base = f"{config.base_url}/mail/rate/{ticket.number}"
    return [
        {
            "score": score,
            "label": labels.get(score, str(score)),
            "url": f"{base}/{score}?u={ticket.requester_id}&s={signature}",
        }
        for score in RATING_SCORES
    ]


def _with_number(rendered: RenderedMessage, number: int) -> RenderedMessage:
    """The subject always carries ``[#N]``: mail that comes back is matched by it, so an
    admin's template that leaves it out does not break the thread."""
    tag = f"[#{number}]"
    if tag in rendered.subject:
        return rendered
    return RenderedMessage(
        subject=f"{tag} {rendered.subject}".strip(), text=rendered.text, html=rendered.html
    )


async def _thread(session: AsyncSession, ticket: Ticket) -> list[str]:
    """The Message-IDs of the ticket's messages so far, oldest first (the first and the
    latest ones)."""
    # Ours, and what was filed: an ignored auto-reply is no message to answer.
    rows = (
        await session.scalars(
            select(MailMessage.message_id)
            .where(
                MailMessage.ticket_id == ticket.id,
                or_(MailMessage.direction == "out", MailMessage.state == "processed"),
            )
            .order_by(MailMessage.id)
        )
    ).all()
    if len(rows) <= REFERENCES_KEPT:
        return list(rows)
    return [rows[0], *rows[-(REFERENCES_KEPT - 1) :]]


async def _queue(
    session: AsyncSession,
    box: SecretBox,
    *,
    config: MailConfig,
    ticket: Ticket,
    event: Event,
    kind: str,
    comment: Comment | None,
    recipients: Recipients,
    rendered: RenderedMessage,
    language: str,
) -> MailMessage:
    message_id = new_message_id(number=ticket.number, domain=config.domain)
    thread = await _thread(session, ticket)
    message = _message(
        config,
        box,
        ticket=ticket,
        message_id=message_id,
        thread=thread,
        recipients=recipients,
        rendered=rendered,
        language=language,
        automatic=kind != "reply",
    )
    attachments = [
        {
            "key": file.storage_key,
            "filename": file.filename,
            "content_type": file.content_type,
            "size": file.size,
            "sha256": file.sha256,
        }
        for file in (attachable(config, comment) if comment is not None else [])
    ]
    row = MailMessage(
        direction="out",
        message_id=message_id,
        ticket_id=ticket.id,
        comment_id=comment.id if comment is not None else None,
        kind=kind,
        sender=config.sender.addr_spec,
        recipients=recipients.to,
        cc=recipients.cc,
        subject=rendered.subject,
        language=language,
        details={"event_id": event.id},
        created_at=event.created_at,
    )
    await _send_later(
        session,
        config,
        row,
        message,
        ticket_number=ticket.number,
        event=event,
        attachments=attachments,
    )
    return row


async def _send_later(
    session: AsyncSession,
    config: MailConfig,
    row: MailMessage,
    message: EmailMessage,
    *,
    ticket_number: int | None,
    event: Event | None,
    attachments: list[dict[str, Any]] | None = None,
) -> None:
    """``message`` queued for the relay as a delivery of the mail channel, and ``row``
    (the message in the log) pointing at it. ``attachments`` name stored files the relay
    adds when it sends (their bytes are not copied into the queue)."""
    sent_at = row.created_at
    delivery = Delivery(
        message_id=new_delivery_id(),
        channel_id=await mail_channel_id(session, config),
        event_type=MAIL_EVENT_TYPE,
        ticket_number=ticket_number,
        payload={
            "type": MAIL_EVENT_TYPE,
            "timestamp": sent_at.isoformat(),
            "data": {
                "kind": row.kind,
                "message_id": row.message_id,
                "from": config.sender.addr_spec,
                "recipients": [*row.recipients, *row.cc],
                "message": message.as_string(policy=MAIL_POLICY),
                "attachments": attachments or [],
            },
        },
        state=DeliveryState.PENDING.value,
        attempt_count=0,
        schedule_step=0,
        next_attempt_at=sent_at,
        created_at=sent_at,
    )
    delivery.event = event
    session.add(delivery)
    await session.flush()
    row.delivery_id = delivery.id
    session.add(row)
    await announce(session)


async def queue_refusal(
    session: AsyncSession, config: MailConfig, *, to: str, subject: str, answers: str
) -> MailMessage:
    """A polite answer to mail from someone helpwire does not take mail from. Marked as
    an automatic answer (RFC 3834), so that auto-responders leave it be; mail that is
    itself automatic is never answered (it is noise before it gets here)."""
    language = language_for(None, config.default_language)
    template = await template_for(session, "refused", language)
    texts = words(language)
    rendered = render_or_shipped(
        template,
        {
            "marker": texts["marker"],
            "original": {"subject": subject, "sender": to},
            "portal_url": config.base_url + "/",
            "recipient": {"name": ""},
            "ticket": None,
            "comment": None,
            "rating": [],
        },
    )
    message_id = new_message_id(number=0, domain=config.domain)
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{message_id}>"
    message["In-Reply-To"] = f"<{answers}>"
    message["References"] = f"<{answers}>"
    message["Auto-Submitted"] = "auto-replied"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    message["Content-Language"] = language
    row = MailMessage(
        direction="out",
        message_id=message_id,
        kind="refused",
        sender=config.sender.addr_spec,
        recipients=[to],
        cc=[],
        subject=rendered.subject,
        language=language,
        details={"answers": answers},
        created_at=utcnow(),
    )
    await _send_later(session, config, row, message, ticket_number=None, event=None)
    return row


async def queue_rule_mail(
    session: AsyncSession,
    config: MailConfig,
    *,
    ticket: Ticket,
    event: Event | None,
    to: str,
    subject: str,
    text: str,
) -> MailMessage:
    """A message a rule sends about a ticket (to its requester, its assignee or anyone),
    marked as automatic (RFC 3834) and threaded under the ticket's ``[#N]`` subject."""
    message_id = new_message_id(number=ticket.number, domain=config.domain)
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config.sender
    message["To"] = to
    message["Subject"] = f"[#{ticket.number}] {subject}"
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = f"<{message_id}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, subtype="plain", charset="utf-8")
    row = MailMessage(
        direction="out",
        message_id=message_id,
        ticket_id=ticket.id,
        kind="rule",
        sender=config.sender.addr_spec,
        recipients=[to],
        cc=[],
        subject=str(message["Subject"]),
        language=config.default_language,
        details={"event_id": event.id} if event is not None else {},
        created_at=utcnow(),
    )
    await _send_later(session, config, row, message, ticket_number=ticket.number, event=event)
    return row


def _message(
    config: MailConfig,
    box: SecretBox,
    *,
    ticket: Ticket,
    message_id: str,
    thread: list[str],
    recipients: Recipients,
    rendered: RenderedMessage,
    language: str,
    automatic: bool,
) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config.sender
    message["To"] = ", ".join(recipients.to)
    if recipients.cc:
        message["Cc"] = ", ".join(recipients.cc)
    if config.plus_addressing:
        message["Reply-To"] = Address(
            display_name=config.sender.display_name,
            addr_spec=reply_address(
                box,
                local=config.sender.username,
                domain=config.domain,
                number=ticket.number,
                uid=ticket.uid,
            ),
        )
    message["Subject"] = rendered.subject
    message["Date"] = format_datetime(ticket.updated_at)
    message["Message-ID"] = f"<{message_id}>"
    if thread:
        message["In-Reply-To"] = f"<{thread[-1]}>"
        message["References"] = " ".join(f"<{earlier}>" for earlier in thread)
    message["X-Helpwire-Ticket"] = str(ticket.number)
    if automatic:
        # RFC 3834: a message no one typed; well-behaved autoresponders leave it alone.
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    # After the parts: setting the content drops every Content-* header set before.
    message["Content-Language"] = language
    return message
