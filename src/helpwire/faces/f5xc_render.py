"""A helpwire ticket as F5 Distributed Cloud shows a ``customer_support`` object: metadata,
system_metadata and spec (GetSpecType), its comments with their attachments, and its
timeline. Only what the viewer may see is shown, and internal notes never."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.faces.f5xc_wire import (
    ATTRIBUTES_KEY,
    KIND,
    PRIORITY_OUT,
    STATUS_OUT,
    SYSTEM_NAMESPACE,
    TYPE_IN,
    TYPE_OUT,
    F5Service,
    F5Topic,
    F5Type,
    encode_base64,
    topic_for_key,
)
from helpwire.files.models import File
from helpwire.files.storage import FileStorage
from helpwire.tickets.comments import list_comments, searchable_text
from helpwire.tickets.events import EventType, list_events
from helpwire.tickets.lookup import follow_ups
from helpwire.tickets.models import BodyFormat, Comment, Event, Priority, Status, Ticket, TicketType
from helpwire.tickets.serialize import user_ref

PAGE = 200
# Attachment bytes travel inside the JSON answer (base64, as F5 sends them); past this many
# bytes in one answer the rest are listed by handle only (tp_id = the helpwire file id,
# downloadable at /api/v1/files/{tp_id}).
INLINE_ATTACHMENT_BUDGET = 32 * 1024 * 1024
MAX_TIMELINE_EVENTS = 1000


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def kept_facts(ticket: Ticket) -> tuple[dict[str, Any], dict[str, Any]]:
    """(metadata, spec) as the F5 client sent them when it filed the ticket."""
    kept = (ticket.attributes or {}).get(ATTRIBUTES_KEY)
    if not isinstance(kept, dict):
        return {}, {}
    metadata = kept.get("metadata")
    spec = kept.get("spec")
    return (
        metadata if isinstance(metadata, dict) else {},
        spec if isinstance(spec, dict) else {},
    )


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def object_meta(ticket: Ticket) -> dict[str, Any]:
    """metadata.name is the ticket number; F5's own fields come back as they were sent."""
    sent, _spec = kept_facts(ticket)
    return {
        "name": str(ticket.number),
        "namespace": SYSTEM_NAMESPACE,
        "labels": _strings(sent.get("labels")),
        "annotations": _strings(sent.get("annotations")),
        "description": str(sent.get("description") or ""),
        "disable": bool(sent.get("disable", False)),
    }


def _tenant(ticket: Ticket) -> str:
    return ticket.account.key if ticket.account else ""


def system_meta(ticket: Ticket) -> dict[str, Any]:
    return {
        "uid": ticket.uid,
        "tenant": _tenant(ticket),
        "creation_timestamp": iso(ticket.created_at),
        "modification_timestamp": iso(ticket.updated_at),
        "creator_class": ticket.via,
        "creator_id": ticket.requester.username,
        "object_index": ticket.number,
        "labels": {},
        "finalizers": [],
    }


def ticket_ref(ticket: Ticket) -> dict[str, Any]:
    return {
        "kind": KIND,
        "name": str(ticket.number),
        "namespace": SYSTEM_NAMESPACE,
        "tenant": _tenant(ticket),
        "uid": ticket.uid,
    }


def f5_type(ticket: Ticket, sent: Mapping[str, Any]) -> str:
    """The type the client chose, while it still says what the ticket's type says."""
    current = TicketType(ticket.type)
    chosen = str(sent.get("type"))
    if chosen in F5Type.__members__ and TYPE_IN.get(F5Type(chosen)) == current:
        return chosen
    return TYPE_OUT[current].value


def f5_topic(ticket: Ticket, sent: Mapping[str, Any]) -> str:
    current = ticket.topic.key if ticket.topic else None
    chosen = sent.get("topic")
    matches = isinstance(chosen, str) and current in (None, str(chosen).lower())
    if matches and chosen in F5Topic.__members__:
        return str(chosen)
    return (topic_for_key(current) or F5Topic.TOPIC_UNKNOWN).value


def _custom_fields(ticket: Ticket) -> list[str]:
    """Attributes from elsewhere (other faces, the native API), as F5's read-only
    "id:value" custom fields."""
    fields = []
    for key, value in sorted((ticket.attributes or {}).items()):
        if key == ATTRIBUTES_KEY:
            continue
        fields.append(f"{key}:{value}" if isinstance(value, str) else f"{key}:{_compact(value)}")
    return fields


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


def _relates_to(ticket: Ticket, sent: Mapping[str, Any]) -> list[dict[str, Any]]:
    kept = sent.get("relates_to")
    if isinstance(kept, list) and kept:
        return [dict(ref) for ref in kept if isinstance(ref, dict)]
    # The tickets this one continues: the one it follows up, the one it was split off.
    return [ticket_ref(t) for t in (ticket.follow_up_of, ticket.split_from) if t is not None]


def summary_spec(ticket: Ticket) -> dict[str, Any]:
    """GetSpecType without what needs more queries (comments, description, the event
    timeline, follow-ups): what lists show."""
    _meta, sent = kept_facts(ticket)
    service = sent.get("service")
    return {
        "subject": ticket.subject,
        "description": "",
        "type": f5_type(ticket, sent),
        "topic": f5_topic(ticket, sent),
        "service": (
            service
            if isinstance(service, str) and service in F5Service.__members__
            else F5Service.SS_UNKNOWN.value
        ),
        "priority": PRIORITY_OUT[Priority(ticket.priority)].value,
        "status": STATUS_OUT[Status(ticket.status)].value,
        "category": str(sent.get("category") or ""),
        "ongoing": bool(sent.get("ongoing", False)),
        "product_data": str(sent.get("product_data") or ""),
        "timeline": str(sent.get("timeline") or ""),
        "tp_id": ticket.tp_id or str(ticket.number),
        "relates_to": _relates_to(ticket, sent),
        "followups": [],
        "escalated": ticket.escalated,
        "created_at": iso(ticket.created_at),
        "update_at": iso(ticket.updated_at),
        "author_name": ticket.requester.real_name or ticket.requester.username,
        "user": [
            {
                "kind": "user",
                "name": ticket.requester.username,
                "namespace": SYSTEM_NAMESPACE,
                "tenant": _tenant(ticket),
            }
        ],
        "tags": ticket.tags,
        "custom_fields": _custom_fields(ticket),
        "via": {"channel": ticket.via},
        "comments": [],
    }


def create_spec(ticket: Ticket) -> dict[str, Any]:
    """CreateSpecType: what would file a ticket like this one (GET_RSP_FORMAT_FOR_CREATE)."""
    spec = summary_spec(ticket)
    _meta, sent = kept_facts(ticket)
    keys = (
        "subject",
        "type",
        "topic",
        "service",
        "priority",
        "status",
        "category",
        "ongoing",
        "product_data",
        "timeline",
        "tp_id",
        "relates_to",
    )
    form = {key: spec[key] for key in keys}
    form["description"] = ""
    form["comments"] = []
    form["timeline"] = str(sent.get("timeline") or "")
    return form


async def public_comments(session: AsyncSession, *, actor: Actor, ticket: Ticket) -> list[Comment]:
    """All comments the F5 face shows: never internal notes, whoever asks."""
    found: list[Comment] = []
    after: int | None = None
    while True:
        rows, more = await list_comments(
            session, actor=actor, ticket=ticket, after_id=after, limit=PAGE
        )
        found.extend(c for c in rows if not c.internal)
        if not more or not rows:
            return found
        after = rows[-1].id


class _InlineBudget:
    def __init__(self, storage: FileStorage | None, limit: int) -> None:
        self.storage = storage
        self.left = limit

    async def read(self, file: File) -> str | None:
        if self.storage is None or file.size > self.left:
            return None
        self.left -= file.size
        chunks = [chunk async for chunk in self.storage.open_chunks(file.storage_key)]
        return encode_base64(b"".join(chunks))


async def _comment_out(
    comment: Comment, *, staff: bool, kept: Mapping[str, Any], budget: _InlineBudget
) -> dict[str, Any]:
    author = user_ref(comment.author, staff=staff)
    plain = searchable_text(comment) if comment.body_format == BodyFormat.HTML else comment.body
    attachments = []
    for file in comment.files:
        info: dict[str, Any] = {
            "filename": file.filename,
            "content_type": file.content_type,
            "tp_id": file.id,
        }
        data = await budget.read(file)
        if data is not None:
            info["attachment"] = data
        attachments.append(info)
    return {
        "comment_id": str(comment.id),
        "author_name": str(kept.get("author_name") or author.real_name or author.username),
        "author_email": str(kept.get("author_email") or author.email or ""),
        "created_at": str(kept.get("created_at") or iso(comment.created_at)),
        "plain_text": plain,
        "html": comment.body_html,
        "attachment_ids": [file.id for file in comment.files],
        "attachments_info": attachments,
    }


async def comments_out(
    comments: Sequence[Comment],
    *,
    ticket: Ticket,
    staff: bool,
    storage: FileStorage | None,
) -> list[dict[str, Any]]:
    """The conversation after the description. The comments filed with the ticket carry
    the author and time the client gave them (F5 clients may file a conversation held
    elsewhere); ``storage`` None lists attachments by handle only."""
    _meta, sent = kept_facts(ticket)
    kept = sent.get("comments")
    kept_list = [c if isinstance(c, dict) else {} for c in kept] if isinstance(kept, list) else []
    budget = _InlineBudget(storage, INLINE_ATTACHMENT_BUDGET)
    out = []
    for index, comment in enumerate(comments):
        facts = kept_list[index] if index < len(kept_list) else {}
        out.append(await _comment_out(comment, staff=staff, kept=facts, budget=budget))
    return out


def _who(event: Event) -> str:
    if event.actor is None:
        return "helpwire"
    return event.actor.real_name or event.actor.username


def _priority_name(value: Any) -> str:
    try:
        return PRIORITY_OUT[Priority(value)].value
    except ValueError:
        return str(value)


def _status_name(value: Any) -> str:
    try:
        return STATUS_OUT[Status(value)].value
    except ValueError:
        return str(value)


def describe(event: Event) -> str:
    data = event.data or {}
    files = data.get("files") or []
    with_files = f" with {len(files)} attachment(s)" if files else ""
    if event.type == EventType.TICKET_CREATED:
        return f"filed the ticket{with_files}"
    if event.type == EventType.COMMENT_CREATED:
        return f"commented{with_files}"
    if event.type == EventType.TICKET_STATUS_CHANGED:
        return f"status {_status_name(data.get('before'))} -> {_status_name(data.get('after'))}"
    if event.type == EventType.TICKET_ESCALATED:
        before = (data.get("priority") or {}).get("before")
        return f"escalated (priority {_priority_name(before)} -> PRIORITY_URGENT)"
    if event.type == EventType.TICKET_UPDATED:
        changes = data.get("changes") or {}
        if set(changes) == {"priority"}:
            move = changes["priority"]
            was, now = _priority_name(move.get("before")), _priority_name(move.get("after"))
            return f"priority {was} -> {now}"
        return "changed " + ", ".join(sorted(changes))
    if event.type == EventType.TICKET_ASSIGNED:
        assignee = data.get("after")
        return f"assigned the ticket to {assignee}" if assignee else "unassigned the ticket"
    if event.type == EventType.TICKET_RATED:
        return f"rated the ticket {data.get('score')}/5"
    if event.type == EventType.COMMENT_RATED:
        return f"rated a reply {int(data.get('score') or 0):+d}"
    return event.type


async def timeline(session: AsyncSession, *, ticket: Ticket) -> str:
    """The client's own timeline text, then the ticket's public events, one per line."""
    _meta, sent = kept_facts(ticket)
    lines: list[str] = []
    after: int | None = None
    while len(lines) < MAX_TIMELINE_EVENTS:
        rows, more = await list_events(
            session, ticket=ticket, include_internal=False, after_id=after, limit=PAGE
        )
        lines.extend(f"{iso(e.created_at)} {_who(e)}: {describe(e)}" for e in rows)
        if not more or not rows:
            break
        after = rows[-1].id
    parts = [str(sent["timeline"])] if sent.get("timeline") else []
    if lines:
        parts.append("\n".join(lines[:MAX_TIMELINE_EVENTS]))
    return "\n\n".join(parts)


async def full_spec(
    session: AsyncSession,
    *,
    actor: Actor,
    ticket: Ticket,
    storage: FileStorage | None,
) -> dict[str, Any]:
    """GetSpecType complete: description, comments (attachment bytes inline when
    ``storage`` is given), the timeline and the follow-ups."""
    spec = summary_spec(ticket)
    comments = await public_comments(session, actor=actor, ticket=ticket)
    if comments:
        spec["description"] = comments[0].body
        spec["comments"] = await comments_out(
            comments[1:], ticket=ticket, staff=actor.is_staff, storage=storage
        )
    spec["timeline"] = await timeline(session, ticket=ticket)
    # F5's follow-ups are the open tickets a closed one continues in: a merged ticket's
    # conversation continues in the ticket it was merged into.
    continued = await follow_ups(session, actor=actor, ticket=ticket)
    if ticket.merged_into is not None:
        continued.append(ticket.merged_into)
    spec["followups"] = [ticket_ref(t) for t in continued]
    return spec


def list_item(ticket: Ticket, *, with_spec: bool, with_status: bool) -> dict[str, Any]:
    """ListResponseItem: the summary, and the spec when the client asked for fields."""
    metadata = object_meta(ticket)
    item: dict[str, Any] = {
        "name": metadata["name"],
        "namespace": metadata["namespace"],
        "tenant": _tenant(ticket),
        "uid": ticket.uid,
        "labels": metadata["labels"],
        "annotations": metadata["annotations"],
        "description": metadata["description"],
        "disabled": metadata["disable"],
        "metadata": metadata,
        "system_metadata": system_meta(ticket),
    }
    if with_spec:
        item["get_spec"] = summary_spec(ticket)
    if with_status:
        item["status_set"] = []
    return item
