"""The versioned event document every channel is sent (or renders its message from).

Shape (Standard Webhooks): ``{"type": <event type>, "timestamp": <RFC 3339>, "data": {...}}``
with ``data`` = ``{"version": 1, "event": {...}, "ticket": {...}, "comment": {...} | null}``.
The full field list is in docs/notifications.md. Version 1 only ever gains fields; a
change that removes or renames one will be version 2.
"""

from __future__ import annotations

from typing import Any

from helpwire.accounts.models import User
from helpwire.notify.models import Audience
from helpwire.tickets.models import Comment, Event, Ticket

PAYLOAD_VERSION = 1
# What a customers channel is not sent of an event's details: how and for whom a ticket
# came in, and changes of fields customers do not see (attributes, context), the same
# things ticket_document leaves out for them.
STAFF_ONLY_DETAILS = frozenset({"via", "on_behalf_of_service", "context", "attributes"})
STAFF_ONLY_CHANGES = frozenset({"attributes", "context"})


def _user(user: User | None, *, with_email: bool = True) -> dict[str, Any] | None:
    if user is None:
        return None
    out: dict[str, Any] = {
        "username": user.username,
        "real_name": user.real_name,
        "role": user.role,
    }
    if with_email:
        out["email"] = user.email
    return out


def ticket_path(number: int) -> str:
    """The ticket in the web UI."""
    return f"/tickets/{number}"


def file_path(file_id: str) -> str:
    return f"/api/v1/files/{file_id}"


def with_absolute_urls(payload: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The payload as sent: the stored one names paths; the relay prefixes this
    installation's public address, so the stored document does not depend on it."""
    base = base_url.rstrip("/")
    data = payload.get("data") or {}
    ticket = data.get("ticket")
    comment = data.get("comment")
    if not ticket and not comment and "url" not in data:
        return payload
    data = dict(data)
    if ticket:
        data["ticket"] = {**ticket, "url": base + ticket["url"]}
    if comment:
        files = [{**f, "url": base + f["url"]} for f in comment.get("files", [])]
        data["comment"] = {**comment, "files": files}
    if isinstance(data.get("url"), str) and data["url"].startswith("/"):
        data["url"] = base + data["url"]
    return {**payload, "data": data}


def ticket_document(ticket: Ticket, *, audience: Audience) -> dict[str, Any]:
    staff = audience == Audience.STAFF
    context = ticket.context or {}
    document: dict[str, Any] = {
        "number": ticket.number,
        "uid": ticket.uid,
        "url": ticket_path(ticket.number),
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "topic": {"key": ticket.topic.key, "names": ticket.topic.names} if ticket.topic else None,
        "subtopic": (
            {"key": ticket.subtopic.key, "names": ticket.subtopic.names}
            if ticket.subtopic
            else None
        ),
        "tags": ticket.tags,
        "account": (
            {"key": ticket.account.key, "name": ticket.account.name} if ticket.account else None
        ),
        "projects": [p.key for p in ticket.projects],
        "requester": _user(ticket.requester),
        "assignee": _user(ticket.assignee, with_email=staff),
        "access_level": ticket.access_level,
        "escalated": ticket.escalated,
        "rating": (
            {"score": ticket.rating_score, "comment": ticket.rating_comment}
            if ticket.rating_score is not None
            else None
        ),
        "comment_count": (
            ticket.comment_count if staff else ticket.comment_count - ticket.internal_note_count
        ),
        "created_at": ticket.created_at.isoformat(),
        "updated_at": ticket.updated_at.isoformat(),
    }
    if staff:
        document["context"] = {
            "request_id": context.get("request_id"),
            "user_agent": context.get("user_agent"),
            "location": context.get("location"),
            "info": context.get("info") or {},
            "via": ticket.via,
            "service": context.get("service"),
        }
        document["attributes"] = ticket.attributes or {}
    return document


def comment_document(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "author": _user(comment.author, with_email=False),
        "body": comment.body,
        "body_format": comment.body_format,
        "internal": comment.internal,
        "files": [
            {
                "id": f.id,
                "filename": f.filename,
                "content_type": f.content_type,
                "size": f.size,
                "url": file_path(f.id),
            }
            for f in comment.files
        ],
        "rating": (
            {"score": comment.rating_score, "comment": comment.rating_comment}
            if comment.rating_score is not None
            else None
        ),
        "created_at": comment.created_at.isoformat(),
    }


def event_details(details: dict[str, Any] | None, *, audience: Audience) -> dict[str, Any]:
    """An event's details as ``audience`` may see them."""
    details = details or {}
    if audience == Audience.STAFF:
        return details
    shown = {k: v for k, v in details.items() if k not in STAFF_ONLY_DETAILS}
    if isinstance(shown.get("changes"), dict):
        shown["changes"] = {
            k: v for k, v in shown["changes"].items() if k not in STAFF_ONLY_CHANGES
        }
    return shown


def event_payload(
    *,
    event: Event,
    ticket: Ticket,
    comment: Comment | None,
    audience: Audience,
) -> dict[str, Any]:
    return {
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": {
            "version": PAYLOAD_VERSION,
            "event": {
                "id": event.uid,
                "type": event.type,
                "internal": event.internal,
                "actor": _user(event.actor, with_email=False),
                "details": event_details(event.data, audience=audience),
                "created_at": event.created_at.isoformat(),
            },
            "ticket": ticket_document(ticket, audience=audience),
            "comment": comment_document(comment) if comment else None,
        },
    }


def test_payload(*, channel_name: str, timestamp: str) -> dict[str, Any]:
    """What ``POST /channels/{id}/test`` sends: a ping, recognisable as such."""
    return {
        "type": "channel.test",
        "timestamp": timestamp,
        "data": {
            "version": PAYLOAD_VERSION,
            "message": f"helpwire test message for channel {channel_name!r}",
            "url": "/",
        },
    }
