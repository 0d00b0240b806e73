"""Admins' work on mail: the message templates (their own versions, checked before they
are kept) and the log of messages sent and received."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.mail.models import MailMessage, MailRaw, MailTemplate
from helpwire.mail.templates import (
    KINDS,
    SHIPPED_LANGUAGES,
    MessageTemplate,
    TemplateProblem,
    render,
    template_for,
    words,
)
from helpwire.notify.models import Delivery
from helpwire.problems import Conflict, NotFound, ValidationProblem
from helpwire.tickets.models import Ticket


def check_kind_and_language(kind: str, language: str) -> None:
    if kind not in KINDS:
        raise NotFound(f"no message kind {kind!r} (kinds: {', '.join(KINDS)})")
    if language not in SHIPPED_LANGUAGES:
        raise NotFound(f"no mail language {language!r} (languages: {', '.join(SHIPPED_LANGUAGES)})")


async def list_templates(session: AsyncSession) -> list[MessageTemplate]:
    return [
        await template_for(session, kind, language)
        for kind in KINDS
        for language in SHIPPED_LANGUAGES
    ]


async def get_template(session: AsyncSession, *, kind: str, language: str) -> MessageTemplate:
    check_kind_and_language(kind, language)
    return await template_for(session, kind, language)


def sample_contexts(kind: str, language: str) -> list[dict[str, Any]]:
    """Values in each shape a real message of ``kind`` is rendered with, to check a
    template with before it is kept: a reply has a comment and no rating links (unless the
    ticket is solved), a solved message the links and no comment, a status message
    neither, a refusal no ticket at all."""
    full = sample_context(language)
    bare = {**full, "comment": None, "rating": [], "original": None, "portal_url": None}
    shapes: dict[str, list[dict[str, Any]]] = {
        "reply": [{**bare, "comment": full["comment"]}, {**full, "original": None}],
        "solved": [{**bare, "rating": full["rating"]}],
        "status": [bare],
        "refused": [
            {
                **bare,
                "ticket": None,
                "original": full["original"],
                "portal_url": full["portal_url"],
                "recipient": {"name": ""},
            }
        ],
    }
    return shapes.get(kind, [full])


def sample_context(language: str) -> dict[str, Any]:
    """Values like a real message's, every one of them set."""
    texts = words(language)
    return {
        "marker": texts["marker"],
        "recipient": {"name": "Alex Example"},
        "ticket": {
            "number": 42,
            "subject": "The printer is on fire",
            "status": texts["statuses"]["solved"],
            "priority": "high",
            "url": "https://helpdesk.example.org/tickets/42",
        },
        "comment": {
            "author": "Sam Agent",
            "text": "Please switch it off first.",
            "html": "<p>Please switch it off first.</p>",
            "files": ["photo.jpg", "video.mp4"],
            "attached": ["photo.jpg"],
            "linked": [
                {"name": "video.mp4", "url": "https://helpdesk.example.org/files/1/video.mp4"}
            ],
        },
        "rating": [
            {"score": score, "label": label, "url": f"https://helpdesk.example.org/r/{score}"}
            for score, label in texts["ratings"].items()
        ],
        "original": {"subject": "Can you help?", "sender": "someone@example.com"},
        "portal_url": "https://helpdesk.example.org/",
    }


async def put_template(
    session: AsyncSession,
    *,
    actor: Actor,
    kind: str,
    language: str,
    subject: str,
    text: str,
    html: str,
) -> MessageTemplate:
    """Keep an admin's version, once it renders: a template that fails would fail every
    message of its kind, so it is refused here with what is wrong."""
    check_kind_and_language(kind, language)
    candidate = MessageTemplate(
        kind=kind, language=language, subject=subject, text=text, html=html, customized=True
    )
    try:
        for context in sample_contexts(kind, language):
            render(candidate, context)
    except TemplateProblem as exc:
        raise ValidationProblem.for_field("template", str(exc), "template_error") from None
    row = await session.scalar(
        select(MailTemplate).where(MailTemplate.kind == kind, MailTemplate.language == language)
    )
    before = _template_snapshot(row)
    if row is None:
        row = MailTemplate(kind=kind, language=language)
        session.add(row)
    row.subject, row.text, row.html = subject, text, html
    row.updated_by_id = actor.user.id
    row.updated_at = utcnow()
    await session.flush()
    await _audit_template(session, row, done="changed", before=before)
    return candidate


def _template_snapshot(row: MailTemplate | None) -> dict[str, Any]:
    """What the audit log keeps of a template: an admin's version, or the shipped one."""
    if row is None:
        return {"customized": False}
    return {"customized": True, "subject": row.subject, "text": row.text, "html": row.html}


async def _audit_template(
    session: AsyncSession, row: MailTemplate, *, done: str, before: dict[str, Any]
) -> None:
    after = _template_snapshot(row if done == "changed" else None)
    await audit(
        session,
        action=f"mail_template.{done}",
        target_type=TargetType.MAIL_TEMPLATE,
        target_key=f"{row.kind}/{row.language}",
        before=before,
        after=after,
    )


async def reset_template(session: AsyncSession, *, kind: str, language: str) -> MessageTemplate:
    """Back to the version shipped with helpwire."""
    check_kind_and_language(kind, language)
    row = await session.scalar(
        select(MailTemplate).where(MailTemplate.kind == kind, MailTemplate.language == language)
    )
    if row is not None:
        await _audit_template(session, row, done="reset", before=_template_snapshot(row))
        await session.delete(row)
        await session.flush()
    return await template_for(session, kind, language)


async def list_messages(
    session: AsyncSession,
    *,
    ticket_number: int | None,
    direction: str | None,
    states: Sequence[str] | None,
    before_id: int | None,
    limit: int,
) -> tuple[Sequence[tuple[MailMessage, int | None, str | None]], bool]:
    """Newest first: (message, its ticket's number, its delivery's state). (page, more)."""
    query = (
        select(MailMessage, Ticket.number, Delivery.state)
        .outerjoin(Ticket, Ticket.id == MailMessage.ticket_id)
        .outerjoin(Delivery, Delivery.id == MailMessage.delivery_id)
    )
    if ticket_number is not None:
        ticket_id = select(Ticket.id).where(Ticket.number == ticket_number).scalar_subquery()
        query = query.where(MailMessage.ticket_id == ticket_id)
    if direction is not None:
        query = query.where(MailMessage.direction == direction)
    if states is not None:
        query = query.where(MailMessage.state.in_(list(states)))
    if before_id is not None:
        query = query.where(MailMessage.id < before_id)
    rows = (await session.execute(query.order_by(MailMessage.id.desc()).limit(limit + 1))).all()
    page = [(row[0], row[1], row[2]) for row in rows[:limit]]
    return page, len(rows) > limit


RETRYABLE = ("quarantined", "refused")


async def check_retryable(session: AsyncSession, *, message_id: int) -> None:
    row = await session.get(MailMessage, message_id)
    if row is None or row.direction != "in":
        raise NotFound(f"no received message {message_id}")
    if row.state not in RETRYABLE:
        raise Conflict(f"message {message_id} was {row.state}; only what waits is retried")


async def original_of(session: AsyncSession, *, message_id: int) -> bytes:
    raw = await session.get(MailRaw, message_id)
    if raw is None:
        raise NotFound(f"no received message {message_id}")
    return raw.data


async def received_for_comments(
    session: AsyncSession, *, comment_ids: Sequence[int]
) -> dict[int, MailMessage]:
    """The received message each of these comments came from, by comment id (comments
    written in helpwire have none)."""
    if not comment_ids:
        return {}
    rows = await session.scalars(
        select(MailMessage).where(
            MailMessage.direction == "in", MailMessage.comment_id.in_(list(comment_ids))
        )
    )
    return {row.comment_id: row for row in rows if row.comment_id is not None}
