"""What the console's ticket page shows, and the properties form read back into the
changes to make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import User
from helpwire.accounts.service import StaffName, active_staff_names
from helpwire.fields.models import CustomField
from helpwire.fields.service import list_fields
from helpwire.fields.values import from_form
from helpwire.groups.models import Group
from helpwire.groups.service import list_groups
from helpwire.problems import NotFound
from helpwire.tickets.comments import get_comment, latest_comments
from helpwire.tickets.events import events_between
from helpwire.tickets.field_values import values_for
from helpwire.tickets.listing import SortField, SortOrder, TicketFilters, list_tickets
from helpwire.tickets.models import Comment, Event, Ticket
from helpwire.tickets.schemas import TicketUpdate
from helpwire.tickets.service import etag_for
from helpwire.topics.models import Topic
from helpwire.topics.service import list_topics, topic_name
from helpwire.web.console_timeline import SHOWN_AS_COMMENT, TimelineEntry, merge

# A page shows a ticket's newest comments, with the events of the same stretch of time;
# "Earlier messages" pages back (?before=<the oldest shown comment's id>).
COMMENTS_PER_PAGE = 100
EVENTS_PER_PAGE = 500
OTHER_TICKETS = 10
MAX_STAFF = 500
# A custom field's inputs are named "fields.<key>", as the API's errors name the field.
FIELD_INPUT = "fields."
PROPERTY_FIELDS = ("status", "priority", "type", "topic", "assignee", "group", "tags")


@dataclass
class TicketView:
    """The ticket and its timeline, read in one transaction (so the ETag describes exactly
    what the page shows)."""

    ticket: Ticket
    # The staff ETag of ``ticket`` as shown: the properties form sends it back as If-Match.
    etag: str
    timeline: list[TimelineEntry]
    # The id to page back from for earlier messages (None: this page starts at the start).
    earlier_before: int | None
    # This page shows earlier messages, not the newest.
    paged_back: bool
    # Some events of this stretch did not fit on the page (thousands between two comments).
    events_cut: bool
    # Support had read the ticket up to here before this view (None: never); what the
    # customer side wrote later is marked new.
    read_before: datetime | None


@dataclass
class Surroundings:
    """What the page shows around the ticket: the requester's other tickets and the
    choices of the properties form."""

    other_tickets: list[Ticket]
    staff: list[StaffName]
    topics: list[Topic]
    groups: list[Group]


@dataclass(frozen=True)
class TopicOption:
    """One choice of the properties form's topic select: "topic" or "topic/subtopic"."""

    value: str
    label: str


def topic_options(
    topics: list[Topic], ticket: Ticket, chosen: str, languages: Sequence[str]
) -> list[TopicOption]:
    """The active topics and subtopics, named in the reader's ``languages``, plus the
    ``chosen`` value when it is not one of them (the ticket's topic or subtopic has been
    retired since): a select without its current value selects nothing, posts "", and
    saving any other field would then clear the topic."""
    options = []
    for topic in topics:
        name = topic_name(topic.names, languages, topic.key)
        options.append(TopicOption(topic.key, name))
        options.extend(
            TopicOption(
                f"{topic.key}/{sub.key}", f"{name} / {topic_name(sub.names, languages, sub.key)}"
            )
            for sub in topic.subtopics
            if sub.is_active
        )
    if chosen and chosen not in {option.value for option in options}:
        options.append(TopicOption(chosen, _retired_label(ticket, chosen, languages)))
    return options


def _retired_label(ticket: Ticket, chosen: str, languages: Sequence[str]) -> str:
    if ticket.topic is None or properties_of(ticket)["topic"] != chosen:
        return chosen  # a value posted back, not the ticket's: shown as it came
    label = topic_name(ticket.topic.names, languages, ticket.topic.key)
    if ticket.subtopic is not None:
        label += " / " + topic_name(ticket.subtopic.names, languages, ticket.subtopic.key)
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
        "group": ticket.group.key if ticket.group else "",
        "tags": ", ".join(ticket.tags),
    }


async def staff_users(session: AsyncSession, *, keep: User | None = None) -> list[StaffName]:
    """The assignee choices: the active agents and admins by user name, at most
    ``MAX_STAFF`` of them, plus ``keep`` (a ticket's assignee) if it is not among them, so
    the current assignee stays selected even when it is past the first ``MAX_STAFF`` or no
    longer active."""
    staff = await active_staff_names(session, limit=MAX_STAFF)
    if keep is not None and all(person.id != keep.id for person in staff):
        staff.append(StaffName(keep.id, keep.username, keep.real_name))
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
    session: AsyncSession,
    *,
    actor: Actor,
    ticket: Ticket,
    read_before: datetime | None,
    before: int | None = None,
) -> TicketView:
    """A stretch of the ticket's timeline, read in the session ``ticket`` was read in: the
    newest ``COMMENTS_PER_PAGE`` comments (of those before comment ``before``, if given)
    and the events from the oldest of them on, up to the next page's first comment, so
    that paging back leaves no gap and shows nothing twice."""
    until = None
    if before is not None:
        boundary = await get_comment(session, actor=actor, comment_id=before)
        if boundary.ticket_id != ticket.id:
            raise NotFound(f"no comment {before} on ticket {ticket.number}")
        until = boundary.created_at
    comments, earlier = await latest_comments(
        session, actor=actor, ticket=ticket, before_id=before, limit=COMMENTS_PER_PAGE
    )
    # Without earlier comments the stretch starts at the very beginning ("filed the
    # ticket" is recorded just after the first comment).
    since = comments[0].created_at if earlier and comments else None
    events, events_cut = await events_between(
        session,
        ticket=ticket,
        include_internal=True,
        since=since,
        until=until,
        leave_out=SHOWN_AS_COMMENT,
        limit=EVENTS_PER_PAGE,
    )
    if events_cut:
        comments, events, earlier, events_cut = _fitted(comments, events, earlier)
    return TicketView(
        ticket=ticket,
        etag=etag_for(ticket, staff=True),
        timeline=merge(comments, events),
        earlier_before=comments[0].id if earlier and comments else None,
        paged_back=before is not None,
        events_cut=events_cut,
        read_before=read_before,
    )


def _fitted(
    comments: list[Comment], events: list[Event], earlier: bool
) -> tuple[list[Comment], list[Event], bool, bool]:
    """The page's stretch narrowed to the events that fit (the newest ones): comments
    older than those move to the earlier page, and with them the events before the
    oldest comment kept. (comments, events, whether earlier ones exist, whether events
    are still cut.) If every comment is older than the events that fit, all are kept and
    the page says that events are missing."""
    kept = [comment for comment in comments if comment.created_at >= events[0].created_at]
    if not kept:
        return comments, events, earlier, True
    start = kept[0].created_at
    return kept, [event for event in events if event.created_at >= start], True, False


@dataclass(frozen=True)
class TicketFields:
    """The ticket's custom fields as the page shows them: the values (named, in form
    order, retired fields' too) and the active fields the properties form edits."""

    shown: list[tuple[str, Any]]
    editable: list[CustomField]
    values: dict[str, Any]


async def ticket_fields(session: AsyncSession, *, ticket: Ticket) -> TicketFields:
    defined = await list_fields(session, staff=True, include_inactive=True)
    values = (await values_for(session, ticket_ids=[ticket.id], staff=True)).get(ticket.id, {})
    return TicketFields(
        shown=[(f.name, values[f.key]) for f in defined if f.key in values],
        editable=[f for f in defined if f.is_active],
        values=values,
    )


def field_changes(form: FormData, fields: TicketFields) -> dict[str, Any]:
    """The custom fields whose posted value differs from the ticket's, as the API takes
    them (fields.values.from_form). A field not on the post is left as it is (its inputs
    always post, a hidden empty one first, so an unticked box is on the post too); an
    unticked checkbox of a ticket without a value is not a change to "no"."""
    changes: dict[str, Any] = {}
    for field in fields.editable:
        name = FIELD_INPUT + field.key
        if name not in form:
            continue
        wanted = from_form(field, [v for v in form.getlist(name) if isinstance(v, str)])
        before = fields.values.get(field.key)
        unset = wanted is None or wanted == [] or (field.kind == "checkbox" and wanted is False)
        if wanted == before or (before is None and unset):
            continue
        changes[field.key] = wanted
    return changes


async def load_surroundings(session: AsyncSession, *, actor: Actor, ticket: Ticket) -> Surroundings:
    return Surroundings(
        other_tickets=await _other_tickets(session, actor=actor, ticket=ticket),
        staff=await staff_users(session, keep=ticket.assignee),
        topics=list(await list_topics(session)),
        groups=list(await list_groups(session, include_inactive=False)),
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


def _posted_fields(form: FormData) -> dict[str, str]:
    """The property fields the post has (an empty one included), without the others."""
    return {
        name: value.strip() for name in PROPERTY_FIELDS if isinstance(value := form.get(name), str)
    }


def property_changes(form: FormData, current: dict[str, str]) -> dict[str, Any]:
    """The properties whose posted value differs from the page's (``current``): only
    those are sent, so a field the agent did not touch is never written back, and a
    field missing from the post leaves its property as it is (an empty one clears it)."""
    posted = {**current, **_posted_fields(form)}
    changes: dict[str, Any] = {}
    for name in ("status", "priority", "type"):
        if posted[name] and posted[name] != current[name]:
            changes[name] = posted[name]
    if posted["topic"] != current["topic"]:
        changes["topic"], changes["subtopic"] = _topic_pair(posted["topic"])
    for name in ("assignee", "group"):
        if posted[name] != current[name]:
            changes[name] = posted[name] or None
    if _tags(posted["tags"]) != _tags(current["tags"]):
        changes["tags"] = _tags(posted["tags"])
    return changes


def posted_properties(form: FormData, current: dict[str, str]) -> dict[str, str]:
    """The form as posted, to show it again: a field missing from the post shows the
    property as it is."""
    posted = {name: value[:1000] for name, value in _posted_fields(form).items()}
    return {**current, **posted}


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
