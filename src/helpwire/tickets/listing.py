"""Listing tickets: filters, full-text search, sort, keyset pagination.

Pages are cut by (sort value, id) rather than by offset, so that deep pages cost the same
as the first one and no ticket is skipped or repeated while new tickets arrive.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    exists,
    func,
    literal,
    select,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import True_

from helpwire.accounts.actor import Actor
from helpwire.accounts.models import Account, Project, User
from helpwire.db.base import utcnow
from helpwire.fields.filters import FieldFilter, FieldSort, read_filters, read_sort
from helpwire.fields.filters import cursor_value as field_cursor_value
from helpwire.groups.models import Group
from helpwire.groups.service import group_ids_of
from helpwire.pagination import decode_cursor, encode_cursor
from helpwire.problems import ValidationProblem
from helpwire.search.service import TicketSearch, search_time_limit, ticket_search
from helpwire.tickets.field_filters import (
    count_driver,
    counted_rows,
    field_condition,
    presence,
    sorted_by_field,
)
from helpwire.tickets.listed import ListedTicket, listed_tickets
from helpwire.tickets.models import (
    PRIORITY_RANK,
    STATUS_RANK,
    AccessLevel,
    Priority,
    Status,
    Ticket,
    TicketFollower,
    TicketProject,
    TicketTag,
    TicketType,
)
from helpwire.tickets.visibility import visible_clause
from helpwire.topics.models import Subtopic, Topic

MAX_PAGE = 200
# A page's tickets: ORM objects (load_page) or plain values (tickets.listed).
Listed = TypeVar("Listed", Ticket, ListedTicket)
# sort=relevance ranks the newest this many tickets that match (and pass the filters):
# ranking every match of a common word costs seconds at a million tickets.
RELEVANCE_CANDIDATES = 1_000
# A list's count stops at this many: past it, counting costs more than the number is worth.
COUNT_CAP = 10_000
# A search's count stops sooner: each match counted is a row read and its words checked,
# where a list counts index entries. At a million tickets, counting a prefix's matches to
# 1,000 took PostgreSQL 18 ms (an agent) to 49 ms (a customer of a large account).
SEARCH_COUNT_CAP = 100
# The relevance count is read off the candidates ranked (see _ranked_count).
assert SEARCH_COUNT_CAP <= RELEVANCE_CANDIDATES


class SortField(enum.StrEnum):
    """The order of a ticket list. ``relevance`` (only with ``q``): the best match first,
    ranked among the 1,000 newest tickets that match and pass the filters, so that it
    answers fast however common the words; newest first within equal scores."""

    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NUMBER = "number"
    PRIORITY = "priority"
    STATUS = "status"
    # Best match first (with ``q`` only), among the RELEVANCE_CANDIDATES newest matches.
    RELEVANCE = "relevance"
    # The soonest SLA due time first; only tickets whose SLA clock runs have one, so only
    # they are listed.
    SLA_DUE_AT = "sla_due_at"
    # A custom field's values in order (the field: TicketFilters.sort_field); only
    # tickets with a value are listed.
    FIELD = "field"


class SortOrder(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class TicketFilters:
    statuses: tuple[Status, ...] = ()
    priorities: tuple[Priority, ...] = ()
    types: tuple[TicketType, ...] = ()
    topic: str | None = None
    assignee: str | None = None  # a username, "me" or "none"
    requester: str | None = None
    tag: str | None = None
    account: str | None = None
    project: str | None = None
    q: str | None = None
    escalated: bool | None = None
    subtopic: str | None = None  # a key; with ``topic``, that topic's subtopic only
    access_levels: tuple[AccessLevel, ...] = ()
    via: str | None = None  # the channel it was filed through: "api", "web", a face's name
    rated: bool | None = None
    rating: int | None = None  # a score 1..5
    # Time windows: "after" is inclusive and "before" exclusive, so that consecutive
    # windows (after=Jan 1&before=Feb 1, after=Feb 1&before=Mar 1) neither overlap nor gap.
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    group: str | None = None  # a key, "mine" (the caller's groups) or "none"
    sla_breached: bool | None = None  # whether any SLA target was breached
    sla_running: bool | None = None  # whether an SLA clock runs (the ticket has a due time)
    due_within: int | None = None  # minutes: a running clock due before now + this
    following: bool | None = None  # whether the caller follows the ticket (staff)
    fields: tuple[tuple[str, str], ...] = ()  # (key, value) of each field.<key> filter
    sort_field: str | None = None  # with sort=field, the key of the field


RATING_SCORES = range(1, 6)
MAX_DUE_WITHIN = 525_600  # a year of minutes
_TIME_FORMATS = "an ISO 8601 date (2026-01-31) or date-time (2026-01-31T09:30:00Z)"


def parse_filter_time(raw: str) -> datetime:
    """A time filter's value: an ISO 8601 date, meaning the start of that day in UTC, or a
    date-time, in UTC unless it carries an offset. ValueError names the accepted forms."""
    try:
        moment = datetime.fromisoformat(raw.strip())
        # A bare date parses as its midnight; like a date-time without an offset, it is UTC.
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # Near year 1 or 9999 an offset can carry the time out of the range a datetime
        # holds (OverflowError): not a time any ticket has, so not a filter to accept.
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(f"not {_TIME_FORMATS}") from None


async def load_page(session: AsyncSession, ids: Sequence[int]) -> list[Ticket]:
    """The tickets of ``ids``, in that order, with everything a list shows.

    A page is found by its ids first (the filters, the search and the order, which the
    indexes answer) and its tickets are loaded by id after: one statement with the
    requester, assignee, account and topics joined to the page's few rows, then the tags'
    and projects' statements. Joined to a filtered list instead, PostgreSQL joined the whole
    table before filtering (0.6 s against 12 ms); loaded one "IN" query per relation, the
    page took eight statements and the ORM's work for each was most of a list's CPU."""
    if not ids:
        return []
    loaded = {
        ticket.id: ticket
        for ticket in (await session.scalars(select(Ticket).where(Ticket.id.in_(ids)))).unique()
    }
    return [loaded[ticket_id] for ticket_id in ids if ticket_id in loaded]


def _sort_expression(sort: SortField) -> ColumnElement[Any]:
    # Priority and status sort by their stored rank columns, which have indexes.
    if sort == SortField.PRIORITY:
        return Ticket.priority_rank.expression
    if sort == SortField.STATUS:
        return Ticket.status_rank.expression
    column: ColumnElement[Any] = getattr(Ticket, sort.value).expression
    return column


def _cursor_value(ticket: Ticket | ListedTicket, sort: SortField) -> Any:
    # The ranks come from the ticket's own values: the rank columns are never loaded.
    if sort == SortField.PRIORITY:
        return PRIORITY_RANK[Priority(ticket.priority)]
    if sort == SortField.STATUS:
        return STATUS_RANK[Status(ticket.status)]
    value = getattr(ticket, sort.value)
    return value.isoformat() if isinstance(value, datetime) else value


# A tampered cursor must not reach the database with values its columns cannot hold
# (that would be a 500): ids and ranks are 32-bit there, ticket numbers 64-bit.
_INT4_MAX = 2**31 - 1
_INT8_MAX = 2**63 - 1


def _parse_cursor_value(sort: SortField, value: Any) -> Any:
    if sort == SortField.FIELD:
        return value  # [field id, value]: checked against the field (_find_by_field)
    try:
        if sort == SortField.RELEVANCE:
            score = float(value)
            if not math.isfinite(score):
                raise ValueError("not a score")
            return score
        if sort in (SortField.CREATED_AT, SortField.UPDATED_AT, SortField.SLA_DUE_AT):
            moment = datetime.fromisoformat(str(value))
            if moment.tzinfo is None:
                raise ValueError("a cursor's time carries its offset")
            return moment.astimezone(UTC)
        number = int(value)
        if abs(number) > (_INT8_MAX if sort == SortField.NUMBER else _INT4_MAX):
            raise ValueError("out of range")
        return number
    except (TypeError, ValueError, OverflowError):
        raise ValidationProblem.for_field("cursor", "is not a cursor this API gave out") from None


@dataclass(frozen=True)
class NamedIds:
    """The ids that the filters' names (usernames, keys) stand for, looked up before the
    list's query: with the ids written in, PostgreSQL plans the query for them, where an
    ``IN (SELECT ...)`` on the name made it guess (an assignee's list: 651 ms against
    0.3 ms). None: no such filter; empty: a name that matches nothing, so no ticket.

    A project key may name thousands of projects (one in each account that has it): past
    :data:`MAX_WRITTEN_IDS` the projects stay a subquery, which the database reads once per
    statement into a hash or a temporary index. Written in, 6,666 ids were as many bound
    parameters in each of the list's two statements, 115 ms of Python's CPU per list."""

    topic: tuple[int, ...] | None = None
    subtopic: tuple[int, ...] | None = None
    assignee: tuple[int, ...] | None = None  # a username's (not "me" or "none")
    requester: tuple[int, ...] | None = None
    account: tuple[int, ...] | None = None
    project: tuple[int, ...] | Select[tuple[int]] | None = None
    group: tuple[int, ...] | None = None  # a key's, or the caller's groups (not "none")
    fields: tuple[FieldFilter, ...] = ()
    field_sort: FieldSort | None = None


MAX_WRITTEN_IDS = 100


async def _ids(session: AsyncSession, query: Select[tuple[int]]) -> tuple[int, ...]:
    return tuple(await session.scalars(query))


async def _ids_or_query(
    session: AsyncSession, query: Select[tuple[int]]
) -> tuple[int, ...] | Select[tuple[int]]:
    """The ids of ``query`` if there are at most MAX_WRITTEN_IDS, otherwise the query."""
    ids = await _ids(session, query.limit(MAX_WRITTEN_IDS + 1))
    return ids if len(ids) <= MAX_WRITTEN_IDS else query


async def resolve_names(session: AsyncSession, actor: Actor, filters: TicketFilters) -> NamedIds:
    """The ids of the names in ``filters``, one small indexed query per name given."""
    topic: tuple[int, ...] | None = None
    subtopic = assignee = requester = account = topic
    project: tuple[int, ...] | Select[tuple[int]] | None = None
    if filters.topic is not None:
        topic = await _ids(session, select(Topic.id).where(Topic.key == filters.topic))
    if filters.subtopic is not None:
        # Subtopic keys are unique within their topic only: without a topic, every topic's
        # subtopic of that key matches.
        subtopics = select(Subtopic.id).where(Subtopic.key == filters.subtopic)
        if topic is not None:
            subtopics = subtopics.where(Subtopic.topic_id.in_(topic))
        subtopic = await _ids(session, subtopics)
    if filters.assignee not in (None, "me", "none"):
        assignee = await _ids(session, select(User.id).where(User.username == filters.assignee))
    if filters.requester == "me":
        requester = (actor.user.id,)
    elif filters.requester is not None:
        requester = await _ids(session, select(User.id).where(User.username == filters.requester))
    if filters.account is not None:
        account = await _ids(session, select(Account.id).where(Account.key == filters.account))
    if filters.project is not None:
        project = await _ids_or_query(session, _projects_named(actor, filters.project, account))
    group = await _group_ids(session, actor, filters.group)
    staff = actor.is_staff
    fields = await read_filters(session, given=filters.fields, staff=staff)
    field_sort = None
    if filters.sort_field is not None:
        field_sort = await read_sort(session, key=filters.sort_field, staff=staff)
    return NamedIds(
        topic,
        subtopic,
        assignee,
        requester,
        account,
        project,
        group,
        fields=fields,
        field_sort=field_sort,
    )


async def _group_ids(
    session: AsyncSession, actor: Actor, group: str | None
) -> tuple[int, ...] | None:
    if group is None or group == "none":
        return None
    if group == "mine":
        return tuple(await group_ids_of(session, user_id=actor.user.id))
    return await _ids(session, select(Group.id).where(Group.key == group))


def _projects_named(
    actor: Actor, key: str, account_ids: tuple[int, ...] | None
) -> Select[tuple[int]]:
    """The projects a project filter can mean: a key names a project in every account that
    has one (thousands, for a common key), but a ticket's projects are its account's, so
    only the accounts the list can show count: the account filter's, a customer's own."""
    query = select(Project.id).where(Project.key == key)
    if account_ids is not None:
        query = query.where(Project.account_id.in_(account_ids))
    if not actor.is_staff:
        query = query.where(Project.account_id == actor.user.account_id)
    return query


def _filter_conditions(
    actor: Actor,
    filters: TicketFilters,
    names: NamedIds,
    *,
    counting: bool = False,
    tag_joined: bool = False,
    field_joined: FieldFilter | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of the visibility and the filters; ``counting`` leaves out the tag's
    and the projects' (the count joins their rows), ``tag_joined`` the tag's (the query
    reads the tag's rows)."""
    conditions: list[ColumnElement[bool]] = [
        visible_clause(actor.user, user_project_ids=set(actor.project_ids))
    ]
    if filters.statuses:
        conditions.append(Ticket.status.in_([s.value for s in filters.statuses]))
    if filters.priorities:
        conditions.append(Ticket.priority.in_([p.value for p in filters.priorities]))
    if filters.types:
        conditions.append(Ticket.type.in_([t.value for t in filters.types]))
    if filters.escalated is not None:
        conditions.append(Ticket.escalated.is_(filters.escalated))
    if names.topic is not None:
        conditions.append(Ticket.topic_id.in_(names.topic))
    if names.subtopic is not None:
        conditions.append(Ticket.subtopic_id.in_(names.subtopic))
    conditions += _people_conditions(actor, filters, names)
    conditions += _place_conditions(
        filters, names, tag_joined=counting or tag_joined, projects_joined=counting
    )
    if filters.access_levels:
        conditions.append(Ticket.access_level.in_([a.value for a in filters.access_levels]))
    if filters.via is not None:
        # Stored in lower case (tickets.via), so any case of a channel's name finds it.
        conditions.append(Ticket.via == filters.via.strip().lower())
    conditions += _rating_conditions(filters)
    conditions += _time_conditions(filters)
    conditions += _team_and_sla_conditions(filters, names)
    if filters.following is not None:
        conditions.append(followed_by(actor, following=filters.following))
    # A count may read one field filter's rows (``field_joined``): its condition is theirs.
    conditions += [field_condition(f) for f in names.fields if f is not field_joined]
    return conditions


def followed_by(actor: Actor, *, following: bool = True) -> ColumnElement[bool]:
    """The tickets the actor follows (or, with ``following`` False, does not): read off
    the followers' (user_id, ticket_id) index."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.user_id == actor.user.id)
    return Ticket.id.in_(followed) if following else Ticket.id.not_in(followed)


def _team_and_sla_conditions(filters: TicketFilters, names: NamedIds) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.group == "none":
        conditions.append(Ticket.group_id.is_(None))
    elif names.group is not None:
        conditions.append(Ticket.group_id.in_(names.group))
    if filters.sla_breached is not None:
        conditions.append(Ticket.sla_breached.is_(filters.sla_breached))
    if filters.sla_running is not None:
        due = Ticket.sla_due_at
        conditions.append(due.is_not(None) if filters.sla_running else due.is_(None))
    if filters.due_within is not None:
        if not 0 <= filters.due_within <= MAX_DUE_WITHIN:
            raise ValidationProblem.for_field("due_within", f"must be 0..{MAX_DUE_WITHIN} minutes")
        conditions.append(Ticket.sla_due_at <= utcnow() + timedelta(minutes=filters.due_within))
    return conditions


def search_for(actor: Actor, filters: TicketFilters, dialect: str) -> TicketSearch | None:
    """The search of ``filters.q`` for this actor (None without ``q``): staff search
    internal notes too; a customer's search is narrowed to their account in the index."""
    if filters.q is None:
        return None
    user = actor.user
    search = ticket_search(
        dialect=dialect,
        q=filters.q,
        include_internal=actor.is_staff,
        account_id=None if user.is_staff else user.account_id,
    )
    if search is None:
        raise ValidationProblem.for_field("q", "needs at least one word to search for")
    return search


def with_search(query: Select[Any], search: TicketSearch | None) -> Select[Any]:
    """``query`` (over tickets) narrowed to the search's matches, by a join with the index:
    the engine may then read the index in its order (see build_query)."""
    if search is None:
        return query
    return query.join(search.table, search.join_key == Ticket.id).where(search.where)


def _people_conditions(
    actor: Actor, filters: TicketFilters, names: NamedIds
) -> list[ColumnElement[bool]]:
    """Assignee and requester: a username, or "me" (and for the assignee, "none")."""
    conditions: list[ColumnElement[bool]] = []
    if filters.assignee == "none":
        conditions.append(Ticket.assignee_id.is_(None))
    elif filters.assignee == "me":
        conditions.append(Ticket.assignee_id == actor.user.id)
    elif names.assignee is not None:
        conditions.append(Ticket.assignee_id.in_(names.assignee))
    if names.requester is not None:
        conditions.append(Ticket.requester_id.in_(names.requester))
    return conditions


def _place_conditions(
    filters: TicketFilters, names: NamedIds, *, tag_joined: bool, projects_joined: bool
) -> list[ColumnElement[bool]]:
    """Where the ticket belongs: its tag, account and project.

    A page walks the tickets in the list's order and checks each ticket's tags or projects
    (EXISTS), stopping when the page is full; newest first, a tag's list reads the tag's
    rows in their own order instead (:func:`build_query`). A count has no order to follow
    and joins the tag's or the projects' rows (:func:`_join_places`)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.tag is not None and not tag_joined:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == _tag(filters))
        conditions.append(exists(tagged.where(TicketTag.ticket_id == Ticket.id)))
    if names.account is not None:
        conditions.append(Ticket.account_id.in_(names.account))
    if names.project is not None and not projects_joined:
        conditions.append(_in_projects(names.project))
    return conditions


def _tag(filters: TicketFilters) -> str | None:
    return None if filters.tag is None else filters.tag.strip().lower()


def _join_places(query: Select[Any], filters: TicketFilters, names: NamedIds) -> Select[Any]:
    """A count's tag and project filters: the tag's or the projects' rows, joined to their
    tickets, so that the count reads from them and stops at its cap. Checking every ticket
    of a million for a tag on 3,582 of them took SQLite 444 ms where reading the 3,582 took
    8 ms; as ``id IN (...)`` a key on 300,000 tickets built the whole list first (250 ms).
    No ticket is counted twice: a ticket has a tag once, and of a key at most one project
    (its account's)."""
    tag = _tag(filters)
    if tag is not None:
        query = query.join(TicketTag, TicketTag.ticket_id == Ticket.id).where(TicketTag.tag == tag)
    if names.project is not None:
        query = query.join(TicketProject, TicketProject.ticket_id == Ticket.id).where(
            TicketProject.project_id.in_(names.project)
        )
    return query


def _place_rows_only(filters: TicketFilters, names: NamedIds) -> Select[Any] | None:
    """A count of a tag's or a project key's tickets, when nothing else narrows them (staff,
    no other filter): the tag's or the projects' own rows, without looking up a ticket for
    each (a tag on 3,582 tickets of a million: 9 ms joined to the tickets, well under one
    from its index alone). None for both filters at once, or neither."""
    tag = _tag(filters)
    if tag is not None and names.project is None:
        return select(literal(1)).select_from(TicketTag).where(TicketTag.tag == tag)
    if names.project is not None and tag is None:
        rows = select(literal(1)).select_from(TicketProject)
        return rows.where(TicketProject.project_id.in_(names.project))
    return None


def _matches(*columns: Any, search: TicketSearch) -> Select[Any]:
    """``columns`` of the search's matches, read from the search index alone: when nothing
    but the words narrows the list (staff, no filter), looking up each match's ticket only
    to join it cost as much again (ranking a word's 10,069 matches: 30,000 more pages
    read)."""
    return select(*columns).select_from(search.table).where(search.where)


def _all_true(conditions: list[ColumnElement[bool]]) -> bool:
    """Whether ``conditions`` keep every ticket (staff's visibility, and nothing else)."""
    return all(isinstance(condition, True_) for condition in conditions)


def _in_projects(project_ids: tuple[int, ...] | Select[tuple[int]]) -> ColumnElement[bool]:
    project_id: ColumnElement[int] = TicketProject.project_id.expression
    if isinstance(project_ids, Select) or len(project_ids) > 1:
        # A project key names a project in each account that has one. Checked by index
        # for each ticket walked, every id of the list was a look-up of its own (SQLite:
        # 26 s for 6,666 projects); as "+ 0" the ticket's few projects are read and each
        # is looked for in the list.
        project_id = project_id + 0
    return exists(
        select(TicketProject.ticket_id).where(
            TicketProject.ticket_id == Ticket.id, project_id.in_(project_ids)
        )
    )


def _rating_conditions(filters: TicketFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.rated is not None:
        score = Ticket.rating_score
        conditions.append(score.is_not(None) if filters.rated else score.is_(None))
    if filters.rating is not None:
        # Checked here too, so that no caller sends the SMALLINT column a number it cannot
        # hold (a 500 on PostgreSQL) rather than a 422.
        if filters.rating not in RATING_SCORES:
            raise ValidationProblem.for_field("rating", "must be a score 1..5")
        conditions.append(Ticket.rating_score == filters.rating)
    return conditions


def _time_conditions(filters: TicketFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, after, before in (
        (Ticket.created_at, filters.created_after, filters.created_before),
        (Ticket.updated_at, filters.updated_after, filters.updated_before),
    ):
        if after is not None:
            conditions.append(column >= after)
        if before is not None:
            conditions.append(column < before)
    return conditions


def build_query(
    *,
    actor: Actor,
    filters: TicketFilters,
    sort: SortField,
    order: SortOrder,
    cursor: str | None,
    dialect: str,
    names: NamedIds,
) -> Select[tuple[int]]:
    """The list's query, of the tickets' ids (the page's tickets are loaded by id after);
    ``names`` are the ids of the filters' names (:func:`resolve_names`). For
    sort=relevance, see :func:`build_relevance_query`."""
    search = search_for(actor, filters, dialect)
    tag = _tag(filters)
    by_tag = search is None and sort == SortField.CREATED_AT and tag is not None
    conditions = _filter_conditions(actor, filters, names, tag_joined=by_tag)
    sort_expr = _sort_expression(sort)
    keys: tuple[ColumnElement[Any], ...] = (sort_expr, Ticket.id.expression)
    if by_tag:
        # The tag's rows carry their ticket's creation time (migration 0013): the page is
        # the first rows of their index, where walking the tickets and looking each up in
        # the tag's rows took thousands of look-ups for a rarer tag.
        query = (
            select(Ticket.id)
            .select_from(TicketTag)
            .join(Ticket, Ticket.id == TicketTag.ticket_id)
            .where(TicketTag.tag == tag)
        )
        keys = (TicketTag.ticket_created_at.expression, TicketTag.ticket_id.expression)
    elif search is not None and sort == SortField.CREATED_AT and _all_true(conditions):
        query = _matches(search.key, search=search)
    else:
        query = with_search(select(Ticket.id), search)
    if search is not None and sort == SortField.CREATED_AT:
        # Ticket ids grow with the creation time: newest first is the index's own order
        # (its ticket id descending), which it reads until the page is full.
        keys = (search.key,)
    if cursor is not None:
        value, last_id = _read_cursor(cursor, sort, order)
        # The values are typed like their columns, so that times are stored-form on SQLite.
        values = (literal(value, sort_expr.type), literal(last_id, Ticket.id.type))
        conditions.append(_past_cursor(keys, values[-len(keys) :], order))
    return query.where(*conditions).order_by(*_ordering(keys, order))


def build_relevance_query(
    *,
    actor: Actor,
    filters: TicketFilters,
    order: SortOrder,
    cursor: str | None,
    dialect: str,
    names: NamedIds,
) -> Select[tuple[int, float, int]]:
    """sort=relevance: the ids of the RELEVANCE_CANDIDATES newest tickets that match ``q``
    and pass the filters, best match first, with their scores (for the next page's
    cursor)."""
    search = search_for(actor, filters, dialect)
    if search is None:
        raise ValidationProblem.for_field("sort", "relevance needs a search: give q")
    found: list[Any] = []
    if search.rank is not None and search.vector is not None:
        found.append(search.vector.label("vector"))  # ranked once a candidate
    else:
        found.append(search.score.label("score"))
    conditions = _filter_conditions(actor, filters, names)
    if _all_true(conditions):
        matches = _matches(search.key.label("id"), *found, search=search)
    else:
        matches = with_search(select(Ticket.id.label("id"), *found), search).where(*conditions)
    candidates = (
        matches.order_by(search.key.desc()).limit(RELEVANCE_CANDIDATES).subquery("candidates")
    )
    score = candidates.c.score if search.rank is None else search.rank(candidates.c.vector)
    # How many were ranked, counted before a cursor drops the earlier pages' rows.
    ranked = select(
        candidates.c.id, score.label("score"), func.count().over().label("ranked")
    ).subquery("ranked")
    query = select(ranked.c.id, ranked.c.score, ranked.c.ranked)
    keys: tuple[ColumnElement[Any], ...] = (ranked.c.score, ranked.c.id)
    if cursor is not None:
        value, last_id = _read_cursor(cursor, SortField.RELEVANCE, order)
        values = (literal(value, Float()), literal(last_id, Ticket.id.type))
        query = query.where(_past_cursor(keys, values, order))
    return query.order_by(*_ordering(keys, order))


def _ordering(keys: tuple[ColumnElement[Any], ...], order: SortOrder) -> list[ColumnElement[Any]]:
    return [key.desc() if order == SortOrder.DESC else key.asc() for key in keys]


def _past_cursor(
    keys: tuple[ColumnElement[Any], ...], values: tuple[ColumnElement[Any], ...], order: SortOrder
) -> ColumnElement[bool]:
    """The rows after the cursor's ``values`` in the list's order, as one row-value
    comparison: PostgreSQL seeks the (sort value, id) index by it, where
    "a < x OR (a = x AND id < y)" made it filter; SQLite seeks by the sort value."""
    position, after = tuple_(*keys), tuple_(*values)
    return position < after if order == SortOrder.DESC else position > after


def _read_cursor(cursor: str, sort: SortField, order: SortOrder) -> tuple[Any, int]:
    """The (sort value, ticket id) a cursor holds, checked."""
    payload = decode_cursor(cursor)
    if payload.get("s") != sort.value or payload.get("o") != order.value:
        raise ValidationProblem.for_field(
            "cursor", "was made for another sort or order; start again without it"
        )
    value = _parse_cursor_value(sort, payload.get("v"))
    last_id = payload.get("i")
    if not isinstance(last_id, int) or not 0 <= last_id <= _INT4_MAX:
        raise ValidationProblem.for_field("cursor", "is not a cursor this API gave out")
    return value, last_id


async def list_tickets(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: TicketFilters,
    sort: SortField = SortField.CREATED_AT,
    order: SortOrder = SortOrder.DESC,
    limit: int = 25,
    cursor: str | None = None,
) -> tuple[list[Ticket], str | None]:
    """One page of the tickets the actor may see, and the cursor of the next page."""
    _check_limit(limit)
    filters = _for_sort(filters, sort)
    names = await resolve_names(session, actor, filters)
    async with search_time_limit(session, active=filters.q is not None):
        found = await _find(session, actor, filters, names, sort, order, limit, cursor, None)
        return await _loaded(session, found, sort, order, limit, load_page)


@dataclass(frozen=True)
class TicketList:
    """A page of a list, its next cursor and how many tickets the whole list holds; with
    sort=relevance also how many matches were ranked (at most RELEVANCE_CANDIDATES: when
    that many, older matches were not)."""

    items: list[ListedTicket]
    next_cursor: str | None
    count: TicketCount
    ranked: int | None = None

    @property
    def ranked_every_match(self) -> bool:
        return self.ranked is not None and self.ranked < RELEVANCE_CANDIDATES


async def list_and_count_tickets(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: TicketFilters,
    sort: SortField = SortField.CREATED_AT,
    order: SortOrder = SortOrder.DESC,
    limit: int = 25,
    cursor: str | None = None,
) -> TicketList:
    """:func:`list_tickets` and :func:`count_tickets` in one, the tickets as plain values
    (tickets.listed: what an answer shows, without ORM objects): the filters' names are
    looked up, and a search's time limit set, once for both queries.

    A search's first page, and every page by relevance, is counted by the query that finds
    it: reading on to SEARCH_COUNT_CAP matches in the page's order costs a few more rows
    of the same plan, where a count of its own planned anew and could take the index's
    whole list of a word (a customer's prefix search: 43 ms counted apart, 4 ms so)."""
    _check_limit(limit)
    filters = _for_sort(filters, sort)
    names = await resolve_names(session, actor, filters)
    search = filters.q is not None
    cap = SEARCH_COUNT_CAP if search else COUNT_CAP
    async with search_time_limit(session, active=search):
        count: TicketCount | None = None
        if not search or (cursor is not None and sort != SortField.RELEVANCE):
            # Counted first: a list with nothing in it needs no page, and a page of a
            # filter that matches nothing (a mistyped tag) walked every ticket looking for
            # one. (A cursor is still read by the page query, which refuses one it did not
            # give out.)
            count = await _count(session, actor, filters, names, cap)
            if count.value == 0 and cursor is None:
                return TicketList([], None, count)
        counting = cap if count is None else None
        found = await _find(session, actor, filters, names, sort, order, limit, cursor, counting)
        count = count or found.count or await _count(session, actor, filters, names, cap)
        page, next_cursor = await _loaded(session, found, sort, order, limit, listed_tickets)
        return TicketList(page, next_cursor, count, found.ranked)


def _for_sort(filters: TicketFilters, sort: SortField) -> TicketFilters:
    """By due time, the list is of the tickets that have one (a running SLA clock), so that
    the count is the list's and the keyset never meets a NULL."""
    if sort == SortField.SLA_DUE_AT and filters.sla_running is None:
        return replace(filters, sla_running=True)
    if (sort == SortField.FIELD) != (filters.sort_field is not None):
        raise ValidationProblem.for_field("sort", "name the field to sort by: sort=field.<key>")
    return filters


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationProblem.for_field("limit", f"must be 1..{MAX_PAGE}")


@dataclass(frozen=True)
class _Found:
    """The ids of a page and the one after it (if any), the value each one's cursor holds
    when the ticket does not (its score by relevance; [field id, value] by a field), and
    what the finding query could tell of the whole list."""

    ids: list[int]
    scores: dict[int, Any]
    count: TicketCount | None = None
    ranked: int | None = None


async def _find(
    session: AsyncSession,
    actor: Actor,
    filters: TicketFilters,
    names: NamedIds,
    sort: SortField,
    order: SortOrder,
    limit: int,
    cursor: str | None,
    count_up_to: int | None,
) -> _Found:
    """The page's ids; with ``count_up_to`` (a cap) also the count where this query can
    tell it: given only for a first page, or by relevance (whose count is of the ranked
    candidates, whatever the page). Inside the caller's search_time_limit."""
    dialect = session.bind.dialect.name
    connection = await session.connection()
    if sort == SortField.RELEVANCE:
        ranked = build_relevance_query(
            actor=actor, filters=filters, order=order, cursor=cursor, dialect=dialect, names=names
        )
        rows = (await connection.execute(ranked.limit(limit + 1))).all()
        ids = [row.id for row in rows]
        # With no row past a cursor the number ranked is unknown: counted apart then.
        candidates = rows[0].ranked if rows else (0 if cursor is None else None)
        count = None
        if count_up_to is not None and candidates is not None:
            count = _ranked_count(candidates, count_up_to)
        return _Found(ids, {row.id: row.score for row in rows}, count, candidates)
    if names.field_sort is not None:
        return await _find_by_field(
            connection, actor, filters, names, names.field_sort, order, limit, cursor, count_up_to
        )
    query = build_query(
        actor=actor,
        filters=filters,
        sort=sort,
        order=order,
        cursor=cursor,
        dialect=dialect,
        names=names,
    )
    # Counting from the page's query (a first page: the count is the whole list's) reads
    # on past the page to one beyond the cap.
    reach = limit if count_up_to is None else max(limit, count_up_to)
    ids = list((await connection.execute(query.limit(reach + 1))).scalars())
    if count_up_to is None:
        return _Found(ids, {})
    count = TicketCount(value=min(len(ids), count_up_to), exact=len(ids) <= count_up_to)
    return _Found(ids[: limit + 1], {}, count)


async def _find_by_field(
    connection: AsyncConnection,
    actor: Actor,
    filters: TicketFilters,
    names: NamedIds,
    sort: FieldSort,
    order: SortOrder,
    limit: int,
    cursor: str | None,
    count_up_to: int | None,
) -> _Found:
    """sort=field.<key>: the page read in the order of the field's index
    (tickets.field_filters); the next page's cursor holds the field and the last value."""
    query, keys = sorted_by_field(sort)
    query = with_search(query, search_for(actor, filters, connection.dialect.name))
    conditions = _filter_conditions(actor, filters, names)
    if cursor is not None:
        value, last_id = _read_cursor(cursor, SortField.FIELD, order)
        if not isinstance(value, list) or len(value) != 2 or value[0] != sort.field_id:
            raise ValidationProblem.for_field("cursor", "was made for another sort or order")
        after = (literal(field_cursor_value(sort, value[1]), keys[0].type), literal(last_id))
        conditions.append(_past_cursor(keys, after, order))
    query = query.where(*conditions).order_by(*_ordering(keys, order))
    reach = limit if count_up_to is None else max(limit, count_up_to)
    rows = (await connection.execute(query.limit(reach + 1))).all()
    scores = {row[0]: [sort.field_id, _json_value(row[1])] for row in rows[: limit + 1]}
    ids = [row[0] for row in rows]
    if count_up_to is None:
        return _Found(ids, scores)
    count = TicketCount(value=min(len(ids), count_up_to), exact=len(ids) <= count_up_to)
    return _Found(ids[: limit + 1], scores, count)


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _ranked_count(candidates: int, cap: int) -> TicketCount:
    """The count of a relevance list from how many matches it ranked: all of them when
    fewer than RELEVANCE_CANDIDATES, otherwise at least that many (more than the cap)."""
    if candidates < RELEVANCE_CANDIDATES:
        return TicketCount(value=min(candidates, cap), exact=candidates <= cap)
    return TicketCount(value=cap, exact=False)


async def _loaded(
    session: AsyncSession,
    found: _Found,
    sort: SortField,
    order: SortOrder,
    limit: int,
    load: Callable[[AsyncSession, Sequence[int]], Awaitable[list[Listed]]],
) -> tuple[list[Listed], str | None]:
    """The page's tickets, loaded by ``load``, and the next page's cursor."""
    page = await load(session, found.ids[:limit])
    next_cursor = None
    if len(found.ids) > limit and page:
        last = page[-1]
        value = found.scores[last.id] if found.scores else _cursor_value(last, sort)
        next_cursor = encode_cursor({"s": sort.value, "o": order.value, "v": value, "i": last.id})
    return page, next_cursor


@dataclass(frozen=True)
class TicketCount:
    """How many tickets a list holds: exact up to the cap; past it, the cap itself, not
    exact ("more than 10,000"; for a search, "more than 100")."""

    value: int
    exact: bool


async def count_tickets(
    session: AsyncSession,
    *,
    actor: Actor,
    filters: TicketFilters,
    cap: int = COUNT_CAP,
) -> TicketCount:
    """How many tickets the actor may see pass ``filters``, counted up to ``cap``.

    The same visibility and filters as :func:`list_tickets`, without a cursor: the count
    is the whole list's, whichever page is asked. Counting at most ``cap + 1`` rows keeps
    it cheap however large the list is: an unfiltered agent list at a million tickets
    reads ten thousand index entries, not a million rows."""
    names = await resolve_names(session, actor, filters)
    async with search_time_limit(session, active=filters.q is not None):
        return await _count(session, actor, filters, names, cap)


def _count_driver(
    actor: Actor, filters: TicketFilters, names: NamedIds, alone: bool
) -> FieldFilter | None:
    """The field filter (or a field sort's presence) whose rows a count reads, when only
    fields narrow the list (``alone``: no search, tag or project; and no other condition
    than staff's visibility): reading a common value's rows, a count checked each against
    a status too and read 200,000 rows for 10,001 (0.7 s on SQLite at a million tickets),
    where walking the open tickets and looking each up is bounded by them. None: the
    count walks the tickets, with each field filter a condition (tickets.field_filters)."""
    driver = count_driver(names.fields, names.field_sort)
    if driver is None or not alone:
        return None
    rest = _filter_conditions(actor, filters, replace(names, fields=()), counting=True)
    return driver if _all_true(rest) else None


async def _count(
    session: AsyncSession, actor: Actor, filters: TicketFilters, names: NamedIds, cap: int
) -> TicketCount:
    search = search_for(actor, filters, session.bind.dialect.name)
    # Without the tag's and the projects' conditions: they are joined (_join_places).
    places = _tag(filters) is not None or names.project is not None
    driver = _count_driver(actor, filters, names, search is None and not places)
    conditions = _filter_conditions(actor, filters, names, counting=True, field_joined=driver)
    if names.field_sort is not None and driver is None:
        conditions.append(field_condition(presence(names.field_sort)))
    only_places = _all_true(conditions) and search is None and driver is None
    if _all_true(conditions) and search is not None and not places and driver is None:
        capped = _matches(literal(1), search=search)
    elif only_places and (place_rows := _place_rows_only(filters, names)) is not None:
        capped = place_rows
    else:
        rows = select(literal(1)).select_from(Ticket) if driver is None else counted_rows(driver)
        capped = with_search(rows, search)
        capped = _join_places(capped, filters, names).where(*conditions)
    capped = capped.limit(cap + 1)
    if search is not None and session.bind.dialect.name == "sqlite":
        # In the index's order SQLite reads the matches from FTS5 and looks up their
        # tickets. Without an order, a condition on the tickets (a customer's account) made
        # it read the account's tickets and run the MATCH once per ticket: a prefix search
        # of a 10,000-ticket account ran out of its 3 s, in order it takes 16 ms.
        capped = capped.order_by(search.key.desc())
    # Inside the caller's search_time_limit.
    connection = await session.connection()
    counted = select(func.count()).select_from(capped.subquery())
    found = int((await connection.execute(counted)).scalar() or 0)
    return TicketCount(value=min(found, cap), exact=found <= cap)
