"""What the console's ticket page shows, and the properties form read back into the
changes to make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import STAFF_ROLES, User
from helpwire.tickets.comments import list_comments
from helpwire.tickets.events import list_events
from helpwire.tickets.listing import SortField, SortOrder, TicketFilters, list_tickets
from helpwire.tickets.models import Ticket
from helpwire.tickets.schemas import TicketUpdate
from helpwire.tickets.service import etag_for
from helpwire.topics.models import Topic
from helpwire.topics.service import list_topics
from helpwire.web.console_timeline import TimelineEntry, merge
from helpwire.web.shared import form_text

# A page shows this much of a ticket's history; a longer one says so (the API pages on).
MAX_COMMENTS = 500
MAX_EVENTS = 1000
OTHER_TICKETS = 10
MAX_STAFF = 500
PROPERTY_FIELDS = ("status", "priority", "type", "topic", "assignee", "tags")


@dataclass
class TicketView:
    """The ticket and its timeline, read in one transaction (so the ETag describes exactly
    what the page shows)."""

    ticket: Ticket
    # The staff ETag of ``ticket`` as shown: the properties form sends it back as If-Match.
    etag: str
    timeline: list[TimelineEntry]
    truncated: bool
    # Support had read the ticket up to here before this view (None: never); what the
    # customer side wrote later is marked new.
    read_before: datetime | None


@dataclass
class Surroundings:
    """What the page shows around the ticket: the requester's other tickets and the
    choices of the properties form."""

    other_tickets: list[Ticket]
    staff: list[StaffChoice]
    topics: list[Topic]


@dataclass(frozen=True)
class TopicOption:
    """One choice of the properties form's topic select: "topic" or "topic/subtopic"."""

    value: str
    label: str


def _name(names: dict[str, str], key: str) -> str:
    return names.get("en", key)


def topic_options(topics: list[Topic], ticket: Ticket, chosen: str) -> list[TopicOption]:
    """The active topics and subtopics, plus the ``chosen`` value when it is not one of
    them (the ticket's topic or subtopic has been retired since): a select without its
    current value selects nothing, posts "", and saving any other field would then clear
    the topic."""
    options = []
    for topic in topics:
        options.append(TopicOption(topic.key, _name(topic.names, topic.key)))
        options.extend(
            TopicOption(
                f"{topic.key}/{sub.key}",
                f"{_name(topic.names, topic.key)} / {_name(sub.names, sub.key)}",
            )
            for sub in topic.subtopics
            if sub.is_active
        )
    if chosen and chosen not in {option.value for option in options}:
        options.append(TopicOption(chosen, _retired_label(ticket, chosen)))
    return options


def _retired_label(ticket: Ticket, chosen: str) -> str:
    if ticket.topic is None or properties_of(ticket)["topic"] != chosen:
        return chosen  # a value posted back, not the ticket's: shown as it came
    label = _name(ticket.topic.names, ticket.topic.key)
    if ticket.subtopic is not None:
        label += " / " + _name(ticket.subtopic.names, ticket.subtopic.key)
    return label + " (no longer offered)"


def properties_of(ticket: Ticket) -> dict[str, str]:
    topic = ticket.topic.key if ticket.topic else ""
    if topic and ticket.subtopic:
        topic += "/" + ticket.subtopic.key
    return {
        "status": ticket.status,
        "priority": ticket.priority,
        "type": ticket.type,
        "topic": topic,
        "assignee": ticket.assignee.username if ticket.assignee else "",
        "tags": ", ".join(ticket.tags),
    }


@dataclass(frozen=True)
class StaffChoice:
    """An agent or admin as the assignee choices show them."""

    id: int
    username: str
    real_name: str


async def staff_users(session: AsyncSession, *, keep: User | None = None) -> list[StaffChoice]:
    """The active agents and admins by user name, at most ``MAX_STAFF`` of them (only the
    columns shown), plus ``keep`` (a ticket's assignee) if it is not among them, so the
    current assignee stays selected even when it is past the first ``MAX_STAFF`` or no
    longer active."""
    rows = await session.execute(
        select(User.id, User.username, User.real_name)
        .where(User.role.in_([role.value for role in STAFF_ROLES]), User.is_active.is_(True))
        .order_by(User.username)
        .limit(MAX_STAFF)
    )
    staff = [StaffChoice(row.id, row.username, row.real_name) for row in rows]
    if keep is not None and all(person.id != keep.id for person in staff):
        staff.append(StaffChoice(keep.id, keep.username, keep.real_name))
    return staff


async def _other_tickets(session: AsyncSession, *, actor: Actor, ticket: Ticket) -> list[Ticket]:
    """The requester's latest tickets besides this one (newest first)."""
    page, _next = await list_tickets(
        session,
        actor=actor,
        filters=TicketFilters(requester=ticket.requester.username),
        sort=SortField.CREATED_AT,
        order=SortOrder.DESC,
        limit=OTHER_TICKETS + 1,
    )
    return [t for t in page if t.id != ticket.id][:OTHER_TICKETS]


async def load_view(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, read_before: datetime | None
) -> TicketView:
    """The ticket's timeline, read in the session ``ticket`` was read in."""
    comments, more_comments = await list_comments(
        session, actor=actor, ticket=ticket, after_id=None, limit=MAX_COMMENTS
    )
    events, more_events = await list_events(
        session, ticket=ticket, include_internal=True, after_id=None, limit=MAX_EVENTS
    )
    return TicketView(
        ticket=ticket,
        etag=etag_for(ticket, staff=True),
        timeline=merge(comments, events),
        truncated=more_comments or more_events,
        read_before=read_before,
    )


async def load_surroundings(session: AsyncSession, *, actor: Actor, ticket: Ticket) -> Surroundings:
    return Surroundings(
        other_tickets=await _other_tickets(session, actor=actor, ticket=ticket),
        staff=await staff_users(session, keep=ticket.assignee),
        topics=list(await list_topics(session)),
    )


def link_or_text(location: str | None) -> tuple[str, bool]:
    """The requester's location and whether it may be a link: only http(s) URLs are, so a
    ``javascript:`` location never becomes a clickable link."""
    text = (location or "").strip()
    return text, urlsplit(text).scheme.lower() in ("http", "https") if text else False


def _tags(raw: str) -> list[str]:
    return sorted({part.strip().lower() for part in raw.split(",") if part.strip()})


def _topic_pair(raw: str) -> tuple[str | None, str | None]:
    topic, _slash, subtopic = raw.partition("/")
    return (topic.strip() or None), (subtopic.strip() or None)


def property_changes(form: FormData, current: dict[str, str]) -> dict[str, Any]:
    """The properties whose posted value differs from the page's (``current``): only
    those are sent, so a field the agent did not touch is never written back."""
    posted = {name: form_text(form, name).strip() for name in PROPERTY_FIELDS}
    changes: dict[str, Any] = {}
    for name in ("status", "priority", "type"):
        if posted[name] and posted[name] != current[name]:
            changes[name] = posted[name]
    if posted["topic"] != current["topic"]:
        changes["topic"], changes["subtopic"] = _topic_pair(posted["topic"])
    if posted["assignee"] != current["assignee"]:
        changes["assignee"] = posted["assignee"] or None
    if _tags(posted["tags"]) != _tags(current["tags"]):
        changes["tags"] = _tags(posted["tags"])
    return changes


def posted_properties(form: FormData) -> dict[str, str]:
    return {name: form_text(form, name).strip()[:1000] for name in PROPERTY_FIELDS}


def validated_update(changes: dict[str, Any]) -> tuple[TicketUpdate | None, list[str]]:
    """The changes as a TicketUpdate, or the messages saying what is wrong with them."""
    try:
        return TicketUpdate(**changes), []
    except ValidationError as exc:
        messages = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            if where.startswith("tags."):
                index = int(where.split(".")[1])
                where = f"tag “{str(changes['tags'][index])[:64]}”"
            messages.append(f"{where}: {error['msg']}")
        return None, messages
