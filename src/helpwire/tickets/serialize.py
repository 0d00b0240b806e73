"""Turning tickets, comments and events into the native API's answers."""

from __future__ import annotations

from typing import Any

from helpwire.accounts.models import User
from helpwire.files.models import File
from helpwire.tickets.listed import ListedPerson, ListedTicket
from helpwire.tickets.models import Comment, Event, Ticket
from helpwire.tickets.schemas import (
    CommentOut,
    EventOut,
    FileOut,
    Rating,
    ReadState,
    Relations,
    SlaState,
    TicketContext,
    TicketOut,
    UserRef,
)
from helpwire.tickets.service import read_state


def user_ref(user: User | ListedPerson, *, staff: bool) -> UserRef:
    """A user as a viewer sees them: customers are not shown support staff's e-mail."""
    email = user.email if staff or not user.is_staff else None
    return UserRef(username=user.username, real_name=user.real_name, email=email, role=user.role)


def file_out(file: File) -> FileOut:
    return FileOut(
        id=file.id,
        filename=file.filename,
        content_type=file.content_type,
        size=file.size,
        sha256=file.sha256,
        created_at=file.created_at,
    )


def ticket_out(ticket: Ticket, *, staff: bool, fields: dict[str, Any]) -> TicketOut:
    """The ticket as ``staff`` (or the customer side, when False) may see it; ``fields``
    its custom field values as that side sees them (tickets.field_values.values_for)."""
    return _ticket_answer(
        ticket,
        staff=staff,
        fields=fields,
        topic=ticket.topic.key if ticket.topic else None,
        subtopic=ticket.subtopic.key if ticket.subtopic else None,
        account=ticket.account.key if ticket.account else None,
        group=ticket.group.key if ticket.group else None,
        projects=sorted(p.key for p in ticket.projects),  # as tickets.listed sorts them
        relations=Relations(
            follow_up_of=ticket.follow_up_of.number if ticket.follow_up_of else None,
            split_from=ticket.split_from.number if ticket.split_from else None,
            merged_into=ticket.merged_into.number if ticket.merged_into else None,
        ),
    )


def listed_ticket_out(ticket: ListedTicket, *, staff: bool, fields: dict[str, Any]) -> TicketOut:
    """A ticket of a list page (tickets.listed), answered as ticket_out answers one."""
    return _ticket_answer(
        ticket,
        staff=staff,
        fields=fields,
        topic=ticket.topic,
        subtopic=ticket.subtopic,
        account=ticket.account,
        group=ticket.group,
        projects=ticket.projects,
        relations=Relations(
            follow_up_of=ticket.follow_up_of,
            split_from=ticket.split_from,
            merged_into=ticket.merged_into,
        ),
    )


def _ticket_answer(
    ticket: Ticket | ListedTicket,
    *,
    staff: bool,
    fields: dict[str, Any],
    topic: str | None,
    subtopic: str | None,
    account: str | None,
    group: str | None,
    projects: list[str],
    relations: Relations,
) -> TicketOut:
    """The answer from a ticket's own values; the related ones are given, each kind of
    ticket holding them its own way."""
    customer_read, agent_read = read_state(ticket)
    context = ticket.context or {}
    return TicketOut(
        number=ticket.number,
        uid=ticket.uid,
        subject=ticket.subject,
        status=ticket.status,
        priority=ticket.priority,
        type=ticket.type,
        topic=topic,
        subtopic=subtopic,
        tags=ticket.tags,
        requester=user_ref(ticket.requester, staff=staff),
        assignee=user_ref(ticket.assignee, staff=staff) if ticket.assignee else None,
        account=account,
        projects=projects,
        access_level=ticket.access_level,
        context=TicketContext(
            request_id=context.get("request_id"),
            user_agent=context.get("user_agent"),
            location=context.get("location"),
            info=context.get("info") or {},
            via=ticket.via,
            service=context.get("service"),
        ),
        attributes=ticket.attributes or {},
        fields=fields,
        relations=relations,
        tp_id=ticket.tp_id,
        external_url=ticket.external_url,
        rating=(
            Rating(
                score=ticket.rating_score, comment=ticket.rating_comment, rated_at=ticket.rated_at
            )
            if ticket.rating_score is not None
            else None
        ),
        escalated=ticket.escalated,
        comment_count=(
            ticket.comment_count if staff else ticket.comment_count - ticket.internal_note_count
        ),
        read=ReadState(customer=customer_read, agent=agent_read),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        solved_at=ticket.solved_at,
        closed_at=ticket.closed_at,
        group=group if staff else None,
        sla=SlaState.model_validate(ticket.sla) if staff and ticket.sla else None,
    )


def comment_out(comment: Comment, *, ticket_number: int, staff: bool) -> CommentOut:
    return CommentOut(
        id=comment.id,
        ticket_number=ticket_number,
        author=user_ref(comment.author, staff=staff),
        body=comment.body,
        body_format=comment.body_format,
        body_html=comment.body_html,
        internal=comment.internal,
        files=[file_out(f) for f in comment.files],
        rating=(
            Rating(
                score=comment.rating_score,
                comment=comment.rating_comment,
                rated_at=comment.rated_at,
            )
            if comment.rating_score is not None
            else None
        ),
        created_at=comment.created_at,
        moved_from=comment.moved_from_number,
    )


def event_out(event: Event, *, staff: bool) -> EventOut:
    return EventOut(
        id=event.id,
        uid=event.uid,
        type=event.type,
        actor=user_ref(event.actor, staff=staff) if event.actor else None,
        internal=event.internal,
        data=event.data or {},
        created_at=event.created_at,
    )
