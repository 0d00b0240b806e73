"""Rules for tickets: filing, reading, changing, and the lifecycle moves.

Every function takes keyword arguments only, works inside the caller's transaction and
flushes, never commits. Every change records its event in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from helpwire.accounts.actor import Actor
from helpwire.accounts.memberships import may_name_project
from helpwire.accounts.models import Project, Role, User
from helpwire.accounts.service import projects_by_keys
from helpwire.db.base import utcnow
from helpwire.db.counters import number_ticket
from helpwire.files.service import files_for_attachment
from helpwire.groups.service import resolve_group
from helpwire.problems import (
    Forbidden,
    IllegalTransition,
    NotFound,
    PreconditionFailed,
    ValidationProblem,
)
from helpwire.search.service import reindex_text
from helpwire.tickets import field_values, lifecycle
from helpwire.tickets.comments import write_comment
from helpwire.tickets.events import EventType, record, touch
from helpwire.tickets.inserting import insert_ticket
from helpwire.tickets.listed import ListedTicket, shown_ticket
from helpwire.tickets.models import (
    AccessLevel,
    BodyFormat,
    Comment,
    Priority,
    Status,
    Ticket,
    TicketProject,
    TicketTag,
)
from helpwire.tickets.rendering import render_body
from helpwire.tickets.schemas import TicketCreate, TicketUpdate
from helpwire.tickets.visibility import can_see, may_speak_for_ticket
from helpwire.topics.service import resolve_topic
from helpwire.types import json_shape_error

MAX_ATTRIBUTES_BYTES = 64 * 1024
MAX_INFO_BYTES = 16 * 1024

# Fields a customer may change on a ticket they can see; everything else is staff-only.
# Priority follows check_customer_priority, the rule of every face.
CUSTOMER_EDITABLE = frozenset({"access_level", "projects", "priority", "fields"})


def check_customer_priority(actor: Actor, ticket: Ticket, priority: Priority) -> None:
    """The customer side's one rule for priority, natively and on every face (F5's
    Priority call). Some products let customers raise or lower their own ticket's
    priority, so helpwire does too, within bounds:
    - a closed ticket keeps its priority (reopen it first);
    - only the requester and account-wide users decide, as for every other decision about
      the ticket (visibility.may_speak_for_ticket), not a colleague who merely sees it;
    - ``urgent`` is not set directly: the customer escalates, which also marks the ticket
      escalated and tells support (escalate_ticket).
    Staff change priority freely."""
    if actor.is_staff or ticket.priority == priority.value:
        return
    if ticket.status == Status.CLOSED:
        raise IllegalTransition(
            "the ticket is closed; reopen it to change its priority", current_status="closed"
        )
    if not may_speak_for_ticket(actor, ticket):
        raise _priority_refused("only the requester or an account-wide user changes its priority")
    if priority == Priority.URGENT:
        raise _priority_refused("a customer cannot set priority urgent: escalate the ticket")


def _priority_refused(detail: str) -> Forbidden:
    return Forbidden(detail, errors=[{"field": "priority", "message": detail, "code": "forbidden"}])


def _check_json_size(field: str, value: dict[str, Any], limit: int) -> None:
    """A JSON object the columns and the answers can hold: the shape rules every JSON
    object shares (helpwire.types.json_shape_error), and at most ``limit`` bytes."""
    shape_error = json_shape_error(value)
    if shape_error is not None:
        raise ValidationProblem.for_field(field, shape_error)
    if len(json.dumps(value, default=str)) > limit:
        raise ValidationProblem.for_field(field, f"must serialize to at most {limit} bytes")


def _check_may_name_projects(actor: Actor, projects: Sequence[Project]) -> None:
    """A ticket names only projects its filer or changer may name
    (accounts.memberships.may_name_project): a customer without account-wide access, only
    projects they are a member of. The same refusal whether the ticket is filed or
    changed, and through whichever door: a 422 on ``projects``, like an unknown project."""
    foreign = [p.key for p in projects if not may_name_project(actor, p)]
    if foreign:
        raise ValidationProblem.for_field(
            "projects",
            "you may name only projects you are a member of: not " + ", ".join(foreign),
            code="not_a_member",
        )


async def _requester_for(session: AsyncSession, *, actor: Actor, username: str | None) -> User:
    if username is None:
        return actor.user
    if not actor.is_staff:
        raise Forbidden("only agents and admins may file a ticket for someone else")
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise ValidationProblem.for_field("requester", f"no active user {username!r}")
    return user


async def create_ticket(
    session: AsyncSession,
    *,
    actor: Actor,
    new: TicketCreate,
    via: str = "api",
    request_id: str | None = None,
    max_files: int = 10,
) -> Ticket:
    """File a ticket. Its body becomes the first (public) comment. Staff may file it for a
    customer (``new.requester``) and say how they reached support (``new.via``); the
    timeline records the staff member as the one who filed it."""
    requester = await _requester_for(session, actor=actor, username=new.requester)
    if new.via is not None:
        if not actor.is_staff:
            raise Forbidden(
                "only agents and admins say how a ticket came in",
                errors=[{"field": "via", "message": "staff only", "code": "forbidden"}],
            )
        via = new.via.value
    _check_json_size("attributes", new.attributes, MAX_ATTRIBUTES_BYTES)
    context_in = new.context.model_dump() if new.context else {}
    info = context_in.get("info") or {}
    _check_json_size("context.info", info, MAX_INFO_BYTES)
    topic, subtopic = await resolve_topic(session, topic_key=new.topic, subtopic_key=new.subtopic)
    projects = await projects_by_keys(session, account_id=requester.account_id, keys=new.projects)
    _check_may_name_projects(actor, projects)
    if new.access_level == AccessLevel.PROJECT_USERS and not projects:
        raise ValidationProblem.for_field(
            "projects", "a project_users ticket must name at least one project"
        )
    follow_up_of = None
    if new.follow_up_of is not None:
        follow_up_of = await _ticket_for_relation(session, actor=actor, number=new.follow_up_of)
        if follow_up_of.account_id != requester.account_id:
            raise ValidationProblem.for_field(
                "follow_up_of", "a follow-up belongs to the same account as its ticket"
            )
    files = await files_for_attachment(
        session, uploader=actor.user, file_ids=new.files, limit=max_files
    )
    rendered = render_body(new.body, new.body_format)
    planned_fields = await field_values.check_new(
        session, actor=actor, new=new, topic_id=topic.id if topic else None
    )

    now = utcnow()
    is_customer_side = not requester.is_staff
    ticket = Ticket(
        subject=new.subject,
        type=new.type.value,
        priority=new.priority.value,
        status=Status.NEW.value,
        topic_id=topic.id if topic else None,
        subtopic_id=subtopic.id if subtopic else None,
        attributes=new.attributes,
        requester_id=requester.id,
        account_id=requester.account_id,
        access_level=new.access_level.value,
        context={
            "request_id": context_in.get("request_id") or request_id,
            "user_agent": context_in.get("user_agent"),
            "location": context_in.get("location"),
            "info": info,
            "service": actor.service.username if actor.service else None,
        },
        via=via,
        follow_up_of_id=follow_up_of.id if follow_up_of else None,
        tp_id=new.tp_id,
        external_url=new.external_url,
        escalated=False,
        # The body, written as the first comment below, is counted here: the INSERT
        # carries the count instead of an UPDATE following it.
        comment_count=1,
        internal_note_count=0,
        version=1,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
        last_customer_activity_at=now if is_customer_side else None,
        last_agent_activity_at=None if is_customer_side else now,
        customer_read_at=now if is_customer_side else None,
    )
    # Relationships set by hand, so nothing is loaded lazily later (async has no lazy loads).
    ticket.requester = requester
    ticket.account = requester.account
    ticket.assignee = None
    ticket.topic = topic
    ticket.subtopic = subtopic
    ticket.follow_up_of = follow_up_of
    ticket.split_from = None
    ticket.merged_into = None
    ticket.group = None
    # Sorted, as the relationship loads them: the answer equals what a later GET shows.
    ticket.tag_rows = _tag_rows(ticket, sorted(set(new.tags)))
    ticket.projects = sorted(projects, key=lambda p: p.key)  # as later reads order them
    # Every check is done: a number is taken only by a create that goes on (on SQLite the
    # counter's row is then held until COMMIT, and a refusal would give the number back).
    await number_ticket(session, ticket)
    await insert_ticket(session, ticket)
    comment = await write_comment(
        session,
        ticket=ticket,
        author=requester,
        body=new.body,
        body_format=new.body_format,
        internal=False,
        files=files,
        rendered=rendered,
        announce=False,
        new_ticket_subject=new.subject,
    )
    shown_fields = await field_values.store_new(
        session, actor=actor, ticket=ticket, planned=planned_fields
    )
    # One event for the new ticket and its body: the body is not a comment.created of its
    # own, so that whoever follows the timeline hears of a new ticket once, complete.
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.TICKET_CREATED,
        data={
            "comment_id": comment.id,
            "requester": requester.username,
            "via": via,
            "files": [{"id": f.id, "filename": f.filename} for f in comment.files],
            **({"fields": shown_fields} if shown_fields else {}),
            **({"on_behalf_of_service": actor.service.username} if actor.service else {}),
        },
    )
    await session.flush()
    return ticket


async def _ticket_for_relation(session: AsyncSession, *, actor: Actor, number: int) -> Ticket:
    try:
        return await get_ticket(session, actor=actor, number=number)
    except NotFound:
        raise ValidationProblem.for_field("follow_up_of", f"no ticket {number}") from None


async def get_ticket(
    session: AsyncSession, *, actor: Actor, number: int, for_update: bool = False
) -> Ticket:
    """The ticket, if the actor may see it; otherwise 404 as if it did not exist."""
    # Its tags come in the same statement (one ticket, a few tags), rather than in one
    # more round trip; so do its projects on PostgreSQL. SQLite cannot join the projects'
    # two tables to the one ticket: it built their whole join first (460 ms at a million
    # tickets), so there they come in a statement of their own.
    loading = [joinedload(Ticket.tag_rows)]
    if session.bind.dialect.name == "postgresql":
        loading.append(joinedload(Ticket.projects))
    query = select(Ticket).where(Ticket.number == number).options(*loading)
    if for_update:
        # Serialises concurrent changes to one ticket on PostgreSQL; SQLite writers are
        # serialised already.
        query = query.with_for_update(of=Ticket)
    ticket = (await session.scalars(query)).unique().one_or_none()
    if ticket is None or not can_see(actor.user, ticket, user_project_ids=set(actor.project_ids)):
        raise NotFound(f"no ticket {number}")
    return ticket


async def show_ticket(session: AsyncSession, *, actor: Actor, number: int) -> ListedTicket:
    """The ticket as an answer shows it (tickets.listed), for reading only; otherwise as
    :func:`get_ticket`: 404 if the actor may not see it."""
    ticket = await shown_ticket(session, actor=actor, number=number)
    if ticket is None:
        raise NotFound(f"no ticket {number}")
    return ticket


async def get_ticket_by_id(session: AsyncSession, *, ticket_id: int) -> Ticket:
    """A ticket by its internal id, for callers that checked visibility already."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"no ticket with id {ticket_id}")
    return ticket


def etag_for(ticket: Ticket | ListedTicket, *, staff: bool) -> str:
    """The ETag of the ticket as one side sees it. It changes with everything that side is
    shown (fields, comments, read state) and nothing else: an internal note changes the
    staff ETag only, so a customer cannot learn of it from a changed tag."""
    customer_read, agent_read = read_state(ticket)
    staff_part = f"-{ticket.internal_note_count}" if staff else ""
    return f'"{ticket.uid[:8]}-{ticket.version}{staff_part}-{int(customer_read)}{int(agent_read)}"'


def check_if_match(ticket: Ticket, if_match: str | None, *, staff: bool) -> None:
    """Honour If-Match (strong comparison, as RFC 9110 asks): one of the listed ETags, or
    *, must be the current one."""
    if if_match is None:
        return
    candidates = [tag.strip() for tag in if_match.split(",")]
    current = etag_for(ticket, staff=staff)
    for tag in candidates:
        if tag in ("*", current):
            return
    raise PreconditionFailed(
        f"the ticket has changed since you read it (its ETag is now {current})", etag=current
    )


# What one update changed, field by field: {"subject": {"before": ..., "after": ...}, ...}.
FieldChanges = dict[str, dict[str, Any]]
# An assignee or status move, before and after; None when it did not move.
Move = tuple[Any, Any]

SIMPLE_FIELDS = ("subject", "type", "priority", "tp_id", "external_url")
NOT_NULL_FIELDS = frozenset({"subject", "type", "priority"})


def _note(out: FieldChanges, field: str, before: Any, after: Any) -> None:
    if before != after:
        out[field] = {"before": before, "after": after}


async def update_ticket(
    session: AsyncSession,
    *,
    actor: Actor,
    number: int,
    changes: TicketUpdate,
    if_match: str | None = None,
) -> Ticket:
    """Change a ticket's fields, topic, tags, access, assignee and status at once. Each part
    is applied by its own applier, in this order (which is also the order errors are found),
    and returns what it changed; the events are recorded once, at the end."""
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    check_if_match(ticket, if_match, staff=actor.is_staff)
    given = changes.model_fields_set
    if not actor.is_staff:
        _check_customer_may(actor, ticket, changes)
    field_changes = _apply_fields(ticket, changes, given)
    field_changes |= await _apply_topic(session, ticket=ticket, changes=changes)
    edits = await field_values.apply_changes(
        session,
        actor=actor,
        ticket=ticket,
        changes=changes,
        topic_changed="topic" in field_changes,
    )
    field_changes |= edits.shown
    field_changes |= _apply_tags(ticket, changes)
    field_changes |= await _apply_group(session, ticket=ticket, changes=changes)
    field_changes |= await _apply_access(session, actor=actor, ticket=ticket, changes=changes)
    assigned = await _apply_assignee(session, ticket=ticket, changes=changes)
    status_move = _apply_status_change(ticket, changes)
    await _record_update(
        session,
        actor=actor,
        ticket=ticket,
        field_changes=field_changes,
        assigned=assigned,
        status_move=status_move,
        staff_only=edits,
    )
    return ticket


def _check_customer_may(actor: Actor, ticket: Ticket, changes: TicketUpdate) -> None:
    refused = sorted(changes.model_fields_set - CUSTOMER_EDITABLE)
    if refused:
        raise Forbidden(
            "customers may change only access_level, projects, priority and fields; not: "
            + ", ".join(refused),
            errors=[{"field": f, "message": "staff only", "code": "forbidden"} for f in refused],
        )
    if changes.priority is not None:
        check_customer_priority(actor, ticket, changes.priority)


def _apply_fields(ticket: Ticket, changes: TicketUpdate, given: set[str]) -> FieldChanges:
    """The plain columns and the attributes."""
    out: FieldChanges = {}
    for field in SIMPLE_FIELDS:
        if field not in given:
            continue
        value = getattr(changes, field)
        if value is None and field in NOT_NULL_FIELDS:
            raise ValidationProblem.for_field(field, "cannot be null")
        value = value.value if hasattr(value, "value") else value
        _note(out, field, getattr(ticket, field), value)
        setattr(ticket, field, value)
    if "attributes" in given:
        attributes = changes.attributes or {}
        _check_json_size("attributes", attributes, MAX_ATTRIBUTES_BYTES)
        _note(out, "attributes", ticket.attributes, attributes)
        ticket.attributes = attributes
    return out


async def _apply_topic(
    session: AsyncSession, *, ticket: Ticket, changes: TicketUpdate
) -> FieldChanges:
    given = changes.model_fields_set
    if "topic" not in given and "subtopic" not in given:
        return {}
    current_topic = ticket.topic.key if ticket.topic else None
    topic_key = changes.topic if "topic" in given else current_topic
    if "subtopic" in given:
        subtopic_key = changes.subtopic
    elif topic_key == current_topic and ticket.subtopic is not None:
        subtopic_key = ticket.subtopic.key  # same topic: the subtopic still fits
    else:
        subtopic_key = None
    topic, subtopic = await resolve_topic(session, topic_key=topic_key, subtopic_key=subtopic_key)
    out: FieldChanges = {}
    _note(out, "topic", current_topic, topic.key if topic else None)
    _note(
        out,
        "subtopic",
        ticket.subtopic.key if ticket.subtopic else None,
        subtopic.key if subtopic else None,
    )
    ticket.topic_id, ticket.topic = (topic.id if topic else None), topic
    ticket.subtopic_id, ticket.subtopic = (subtopic.id if subtopic else None), subtopic
    return out


async def _apply_group(
    session: AsyncSession, *, ticket: Ticket, changes: TicketUpdate
) -> FieldChanges:
    if "group" not in changes.model_fields_set:
        return {}
    group = await resolve_group(session, key=changes.group)
    out: FieldChanges = {}
    _note(out, "group", ticket.group.key if ticket.group else None, group.key if group else None)
    ticket.group_id, ticket.group = (group.id if group else None), group
    return out


def _tag_rows(ticket: Ticket, tags: list[str]) -> list[TicketTag]:
    """The ticket's rows for ``tags``, each carrying the ticket's creation time (a tag's
    list newest first is read from them: tickets.listing.build_query)."""
    return [TicketTag(tag=tag, ticket_created_at=ticket.created_at) for tag in tags]


def _apply_tags(ticket: Ticket, changes: TicketUpdate) -> FieldChanges:
    if "tags" not in changes.model_fields_set:
        return {}
    out: FieldChanges = {}
    tags = sorted(set(changes.tags or []))
    _note(out, "tags", ticket.tags, tags)
    if tags != ticket.tags:
        ticket.tag_rows = _tag_rows(ticket, tags)
    return out


async def _apply_access(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, changes: TicketUpdate
) -> FieldChanges:
    """Who sees the ticket: its access level and projects."""
    given = changes.model_fields_set
    if "projects" not in given and "access_level" not in given:
        return {}
    if not may_speak_for_ticket(actor, ticket):
        raise Forbidden(
            "only the requester or an account-wide user may change who sees this ticket"
        )
    level = changes.access_level if "access_level" in given else AccessLevel(ticket.access_level)
    if level is None:
        raise ValidationProblem.for_field("access_level", "cannot be null")
    if "projects" in given:
        projects = await _named_projects(session, actor=actor, ticket=ticket, changes=changes)
    else:
        projects = list(ticket.projects)
    if level == AccessLevel.PROJECT_USERS and not projects:
        raise ValidationProblem.for_field(
            "projects", "a project_users ticket must name at least one project"
        )
    out: FieldChanges = {}
    _note(out, "access_level", ticket.access_level, level.value)
    ticket.access_level = level.value
    before_keys = [p.key for p in ticket.projects]
    after_keys = [p.key for p in projects]
    if sorted(before_keys) != sorted(after_keys):
        out["projects"] = {"before": before_keys, "after": after_keys}
        await session.execute(delete(TicketProject).where(TicketProject.ticket_id == ticket.id))
        session.add_all(TicketProject(ticket_id=ticket.id, project_id=p.id) for p in projects)
        await session.flush()
        await session.refresh(ticket, ["projects"])
    return out


async def _named_projects(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, changes: TicketUpdate
) -> list[Project]:
    projects = await projects_by_keys(
        session, account_id=ticket.account_id, keys=changes.projects or []
    )
    _check_may_name_projects(actor, projects)
    return projects


async def _apply_assignee(
    session: AsyncSession, *, ticket: Ticket, changes: TicketUpdate
) -> Move | None:
    if "assignee" not in changes.model_fields_set:
        return None
    assignee = await _assignee(session, username=changes.assignee)
    before = ticket.assignee.username if ticket.assignee else None
    after = assignee.username if assignee else None
    if before == after:
        return None
    ticket.assignee_id, ticket.assignee = (assignee.id if assignee else None), assignee
    return (before, after)


def _apply_status_change(ticket: Ticket, changes: TicketUpdate) -> tuple[Status, Status] | None:
    if "status" not in changes.model_fields_set:
        return None
    if changes.status is None:
        raise ValidationProblem.for_field("status", "cannot be null")
    current = Status(ticket.status)
    lifecycle.check_move(current, changes.status)
    if changes.status == current:
        return None
    _apply_status(ticket, changes.status)
    return (current, changes.status)


async def _record_update(
    session: AsyncSession,
    *,
    actor: Actor,
    ticket: Ticket,
    field_changes: FieldChanges,
    assigned: Move | None,
    status_move: tuple[Status, Status] | None,
    staff_only: field_values.FieldEdits,
) -> None:
    """The one place an update's events are recorded: nothing changed, nothing recorded.
    Changes of staff-only custom fields are an internal event of their own."""
    if not (field_changes or staff_only.staff_only) and assigned is None and status_move is None:
        return
    touch(ticket)
    await field_values.record_staff_only(session, actor=actor, ticket=ticket, edits=staff_only)
    if field_changes:
        await record(
            session,
            ticket=ticket,
            actor=actor.user,
            type=EventType.TICKET_UPDATED,
            data={"changes": field_changes},
        )
        if "subject" in field_changes:
            await reindex_text(
                session,
                ticket_id=ticket.id,
                kind="subject",
                source_id=ticket.uid,
                text_value=ticket.subject,
            )
    if assigned is not None:
        await record(
            session,
            ticket=ticket,
            actor=actor.user,
            type=EventType.TICKET_ASSIGNED,
            data={"before": assigned[0], "after": assigned[1]},
        )
    if status_move is not None:
        await record_status_change(session, ticket=ticket, actor=actor.user, move=status_move)
    await session.flush()


async def _assignee(session: AsyncSession, *, username: str | None) -> User | None:
    if username is None:
        return None
    user = await session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        raise ValidationProblem.for_field("assignee", f"no active user {username!r}")
    if user.role not in (Role.AGENT, Role.ADMIN):
        raise ValidationProblem.for_field("assignee", f"{username!r} is not an agent or admin")
    return user


def _apply_status(ticket: Ticket, status: Status) -> None:
    now = utcnow()
    ticket.status = status.value
    ticket.status_changed_at = now
    if status == Status.SOLVED:
        ticket.solved_at = now
    elif status == Status.CLOSED:
        ticket.closed_at = now
        ticket.solved_at = ticket.solved_at or now
    else:
        ticket.solved_at = None
        ticket.closed_at = None


async def record_status_change(
    session: AsyncSession,
    *,
    ticket: Ticket,
    actor: User,
    move: tuple[Status, Status],
    extra: dict[str, Any] | None = None,
) -> None:
    await record(
        session,
        ticket=ticket,
        actor=actor,
        type=EventType.TICKET_STATUS_CHANGED,
        data={"before": move[0].value, "after": move[1].value, **(extra or {})},
    )


async def close_ticket(
    session: AsyncSession,
    *,
    actor: Actor,
    number: int,
    score: int | None = None,
    comment: str | None = None,
) -> Ticket:
    """Close, optionally rating the work (1..5) as the customer side. With a score the
    comment goes with the rating; without one it is a last public comment."""
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    current = Status(ticket.status)
    lifecycle.check_can_close(current)
    if score is not None:
        _check_may_rate(actor, ticket)
    elif comment and comment.strip():
        await add_comment_to(
            session,
            actor=actor,
            ticket=ticket,
            body=comment,
            body_format=BodyFormat.TEXT,
            internal=False,
            file_ids=(),
            max_files=0,
        )
        current = Status(ticket.status)  # a reply may have moved it
    _apply_status(ticket, Status.CLOSED)
    touch(ticket)
    await record_status_change(
        session, ticket=ticket, actor=actor.user, move=(current, Status.CLOSED)
    )
    if score is not None:
        await _set_rating(session, ticket=ticket, actor=actor.user, score=score, comment=comment)
    await session.flush()
    return ticket


async def reopen_ticket(
    session: AsyncSession,
    *,
    actor: Actor,
    number: int,
    body: str,
    body_format: BodyFormat = BodyFormat.TEXT,
    file_ids: Sequence[str] = (),
    max_files: int = 10,
) -> Ticket:
    """Take a solved or closed ticket back to open, with a comment saying why."""
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    current = Status(ticket.status)
    lifecycle.check_can_reopen(current)
    _apply_status(ticket, Status.OPEN)
    touch(ticket)
    await record_status_change(
        session,
        ticket=ticket,
        actor=actor.user,
        move=(current, Status.OPEN),
        extra={"reason": "reopen"},
    )
    await add_comment_to(
        session,
        actor=actor,
        ticket=ticket,
        body=body,
        body_format=body_format,
        internal=False,
        file_ids=file_ids,
        max_files=max_files,
    )
    return ticket


async def escalate_ticket(session: AsyncSession, *, actor: Actor, number: int) -> Ticket:
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    lifecycle.check_can_escalate(
        Status(ticket.status), priority=Priority(ticket.priority), escalated=ticket.escalated
    )
    before = ticket.priority
    ticket.priority = Priority.URGENT.value
    ticket.escalated = True
    touch(ticket)
    await record(
        session,
        ticket=ticket,
        actor=actor.user,
        type=EventType.TICKET_ESCALATED,
        data={"priority": {"before": before, "after": Priority.URGENT.value}},
    )
    await session.flush()
    return ticket


async def rate_ticket(
    session: AsyncSession, *, actor: Actor, number: int, score: int, comment: str | None = None
) -> Ticket:
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    _check_may_rate(actor, ticket)
    lifecycle.check_can_rate(Status(ticket.status))
    await _set_rating(session, ticket=ticket, actor=actor.user, score=score, comment=comment)
    touch(ticket)
    await session.flush()
    return ticket


def _check_may_rate(actor: Actor, ticket: Ticket) -> None:
    if actor.is_staff:
        raise Forbidden("only the customer side rates a ticket")
    if not may_speak_for_ticket(actor, ticket):
        raise Forbidden("only the requester or an account-wide user rates this ticket")


async def _set_rating(
    session: AsyncSession, *, ticket: Ticket, actor: User, score: int, comment: str | None
) -> None:
    if not 1 <= score <= 5:  # every face rates on the same five-point scale
        raise ValidationProblem.for_field("score", "must be 1..5")
    before = (
        {"score": ticket.rating_score, "comment": ticket.rating_comment}
        if ticket.rating_score is not None
        else None
    )
    ticket.rating_score = score
    ticket.rating_comment = comment
    ticket.rated_at = utcnow()
    await record(
        session,
        ticket=ticket,
        actor=actor,
        type=EventType.TICKET_RATED,
        data={"score": score, "comment": comment, "before": before},
    )


async def add_comment(
    session: AsyncSession,
    *,
    actor: Actor,
    number: int,
    body: str,
    body_format: BodyFormat = BodyFormat.TEXT,
    internal: bool = False,
    file_ids: Sequence[str] = (),
    max_files: int = 10,
    status: Status | None = None,
) -> tuple[Ticket, Comment]:
    """A reply or note; with ``status`` (staff only) the ticket then takes that status, in
    the same transaction ("send as pending")."""
    if status is not None and not actor.is_staff:
        raise Forbidden(
            "only agents and admins set a status with a comment",
            errors=[{"field": "status", "message": "staff only", "code": "forbidden"}],
        )
    ticket = await get_ticket(session, actor=actor, number=number, for_update=True)
    if status is not None:
        # Refused before anything is written, with the move the agent asked for.
        lifecycle.check_move(_status_after_comment(actor, ticket, internal=internal), status)
    comment = await add_comment_to(
        session,
        actor=actor,
        ticket=ticket,
        body=body,
        body_format=body_format,
        internal=internal,
        file_ids=file_ids,
        max_files=max_files,
    )
    if status is not None:
        await _set_status_with_comment(
            session, actor=actor, ticket=ticket, status=status, internal=internal
        )
    return ticket, comment


def _status_after_comment(actor: Actor, ticket: Ticket, *, internal: bool) -> Status:
    """The status a staff comment leaves: a reply opens a new ticket (add_comment_to)."""
    current = Status(ticket.status)
    if actor.is_staff and not internal and current == Status.NEW:
        return Status.OPEN
    return current


async def _set_status_with_comment(
    session: AsyncSession, *, actor: Actor, ticket: Ticket, status: Status, internal: bool
) -> None:
    current = Status(ticket.status)
    if status == current:
        return
    _apply_status(ticket, status)
    touch(ticket)
    await record_status_change(
        session,
        ticket=ticket,
        actor=actor.user,
        move=(current, status),
        extra={"reason": "with_note" if internal else "with_reply"},
    )
    await session.flush()


async def add_comment_to(
    session: AsyncSession,
    *,
    actor: Actor,
    ticket: Ticket,
    body: str,
    body_format: BodyFormat,
    internal: bool,
    file_ids: Sequence[str],
    max_files: int,
) -> Comment:
    """A reply or an internal note, with what it implies for the ticket's status."""
    lifecycle.check_can_comment(Status(ticket.status))
    if internal and not actor.is_staff:
        raise Forbidden("only agents and admins write internal notes")
    files = await files_for_attachment(
        session, uploader=actor.user, file_ids=file_ids, limit=max_files
    )
    comment = await write_comment(
        session,
        ticket=ticket,
        author=actor.user,
        body=body,
        body_format=body_format,
        internal=internal,
        files=files,
    )
    now = utcnow()
    current = Status(ticket.status)
    if not internal:
        if actor.is_staff:
            ticket.last_agent_activity_at = now
            ticket.agent_read_at = now
            if current == Status.NEW:
                _apply_status(ticket, Status.OPEN)
                await record_status_change(
                    session,
                    ticket=ticket,
                    actor=actor.user,
                    move=(current, Status.OPEN),
                    extra={"reason": "agent_reply"},
                )
        else:
            ticket.last_customer_activity_at = now
            ticket.customer_read_at = now
            if current in lifecycle.REOPENED_BY_CUSTOMER_REPLY:
                _apply_status(ticket, Status.OPEN)
                await record_status_change(
                    session,
                    ticket=ticket,
                    actor=actor.user,
                    move=(current, Status.OPEN),
                    extra={"reason": "customer_reply"},
                )
        touch(ticket)
    # An internal note changes nothing the customer side sees, not even updated_at or the
    # version; the staff ETag follows internal_note_count instead.
    await session.flush()
    return comment


async def mark_read(session: AsyncSession, *, actor: Actor, number: int) -> Ticket:
    """The actor's side has read the ticket up to now."""
    ticket = await get_ticket(session, actor=actor, number=number)
    if actor.is_staff:
        ticket.agent_read_at = utcnow()
    else:
        ticket.customer_read_at = utcnow()
    await session.flush()
    return ticket


def read_state(ticket: Ticket | ListedTicket) -> tuple[bool, bool]:
    """(customer side has read everything, support has read everything)."""

    def seen(read_at: datetime | None, activity_at: datetime | None) -> bool:
        return activity_at is None or (read_at is not None and read_at >= activity_at)

    return (
        seen(ticket.customer_read_at, ticket.last_agent_activity_at),
        seen(ticket.agent_read_at, ticket.last_customer_activity_at),
    )


async def close_as(
    session: AsyncSession, *, actor: User, ticket: Ticket, extra: dict[str, Any]
) -> None:
    """Close a ticket the caller holds (locked) for a reason of its own, named in the
    status change's ``extra`` (a merge closes the ticket it merged away)."""
    current = Status(ticket.status)
    lifecycle.check_can_close(current)
    _apply_status(ticket, Status.CLOSED)
    touch(ticket)
    await record_status_change(
        session, ticket=ticket, actor=actor, move=(current, Status.CLOSED), extra=extra
    )
