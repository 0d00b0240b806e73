"""Tables of the tickets domain."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Computed,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpwire.accounts.models import Account, Project, User
from helpwire.db.base import Base, JSONType, UUIDString, new_uuid, utcnow
from helpwire.files.models import File
from helpwire.groups.models import Group
from helpwire.topics.models import Subtopic, Topic


class TicketType(enum.StrEnum):
    QUESTION = "question"
    INCIDENT = "incident"
    PROBLEM = "problem"
    TASK = "task"
    BUG = "bug"
    SUGGESTION = "suggestion"


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


PRIORITY_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}


class Status(enum.StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    HOLD = "hold"
    SOLVED = "solved"
    CLOSED = "closed"


STATUS_RANK = {s: i for i, s in enumerate(Status)}


def _rank_sql(column: str, ranks: dict[Priority, int] | dict[Status, int]) -> str:
    """The SQL of a generated rank column. The initial migration spells out the same text
    (migrations do not import application code); a test compares the two."""
    whens = " ".join(f"WHEN '{value.value}' THEN {rank}" for value, rank in ranks.items())
    return f"CASE {column} {whens} END"


PRIORITY_RANK_SQL = _rank_sql("priority", PRIORITY_RANK)
STATUS_RANK_SQL = _rank_sql("status", STATUS_RANK)


class AccessLevel(enum.StrEnum):
    ACCOUNT_USERS = "account_users"
    PROJECT_USERS = "project_users"
    ALL_USERS = "all_users"


class BodyFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"


class FiledVia(enum.StrEnum):
    """The channels staff name when they file a ticket for a customer (``tickets.via``,
    beside "api", "web" and the faces' names, which the door a ticket came in by sets)."""

    PHONE = "phone"
    CHAT = "chat"
    WALK_IN = "walk_in"
    EMAIL = "email"


class Ticket(Base):
    __tablename__ = "tickets"
    # Lists are ordered by (sort value, id) and cut by the same pair (keyset pages): each
    # sortable value has an index ending in id, so PostgreSQL reads a page, or a page a
    # thousand deep, straight off the index. Filters the queues use often lead their index.
    __table_args__ = (
        Index("ix_tickets_created_at_id", "created_at", "id"),
        Index("ix_tickets_updated_at_id", "updated_at", "id"),
        Index("ix_tickets_priority_rank_id", "priority_rank", "id"),
        Index("ix_tickets_status_rank_id", "status_rank", "id"),
        Index("ix_tickets_status_created", "status", "created_at", "id"),
        Index("ix_tickets_account_created", "account_id", "created_at", "id"),
        Index("ix_tickets_requester_created", "requester_id", "created_at", "id"),
        Index("ix_tickets_assignee_created", "assignee_id", "created_at", "id"),
        Index("ix_tickets_topic_created", "topic_id", "created_at", "id"),
        Index("ix_tickets_escalated_created", "escalated", "created_at", "id"),
        # The console's queue counts (tickets/queues.py): each queue's condition is an
        # equality on its own column plus a set of statuses, so the pair is one index
        # range per status. Without the status in the index each count reads every
        # ticket the queue's column matches, closed ones included (most of them).
        Index("ix_tickets_assignee_status", "assignee_id", "status"),
        Index("ix_tickets_priority_rank_status", "priority_rank", "status"),
        Index("ix_tickets_escalated_status", "escalated", "status"),
        # The list filters by subtopic, rating score and channel, in the default order: a
        # value that few tickets have is found without reading the whole sort order.
        Index("ix_tickets_subtopic_created", "subtopic_id", "created_at", "id"),
        Index("ix_tickets_rating_created", "rating_score", "created_at", "id"),
        Index("ix_tickets_via_created", "via", "created_at", "id"),
        # A face's rate limit counts one requester's tickets through that face since a
        # moment (tickets/limits.py): the equalities first, the range last.
        Index("ix_tickets_requester_via_created", "requester_id", "via", "created_at"),
        # Single-ticket lookups of the faces: by a third-party reference (newest first),
        # and a ticket's follow-ups. Without them each was a scan of the whole table.
        Index("ix_tickets_tp_id_created", "tp_id", "created_at", "id"),
        Index("ix_tickets_follow_up_of_id", "follow_up_of_id"),
        # A customer's lists are one account's: its sorts and its status filter within
        # the account. Without them a customer of a 100,000-ticket account had every one
        # of the account's tickets read and sorted for a page (100 ms against 0.2 ms).
        Index("ix_tickets_account_status_created", "account_id", "status", "created_at", "id"),
        Index("ix_tickets_account_priority_rank_id", "account_id", "priority_rank", "id"),
        Index("ix_tickets_account_status_rank_id", "account_id", "status_rank", "id"),
        Index("ix_tickets_account_updated_at_id", "account_id", "updated_at", "id"),
        # A group's queue and its counts, as the assignee's.
        Index("ix_tickets_group_created", "group_id", "created_at", "id"),
        Index("ix_tickets_group_status", "group_id", "status"),
        # "Due soonest" and "due within N minutes" read the running SLA clocks in due
        # order; tickets without one (NULL) are not in the way of either.
        Index("ix_tickets_sla_due_at_id", "sla_due_at", "id"),
        Index("ix_tickets_sla_breached_created", "sla_breached", "created_at", "id"),
        Index("ix_tickets_sla_breached_status", "sla_breached", "status"),
        # Automations find the tickets that have been in a status for some time.
        Index("ix_tickets_status_changed", "status", "status_changed_at", "id"),
        # A ticket's split-off and merged-in tickets (tickets.moving.related_tickets).
        Index("ix_tickets_split_from_id", "split_from_id"),
        Index("ix_tickets_merged_into_id", "merged_into_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # On PostgreSQL the INSERT takes it from ticket_number_seq (the column's default, read
    # back with RETURNING); on SQLite the service sets it from the counter (db/counters.py).
    number: Mapped[int] = mapped_column(BigInteger, unique=True, server_default=FetchedValue())
    uid: Mapped[str] = mapped_column(UUIDString, unique=True, default=new_uuid)
    subject: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(16), default=TicketType.QUESTION)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW)
    # Sort keys for sort=priority|status, kept by the database so that an index can serve
    # those sorts (a CASE in ORDER BY means sorting the whole table on every request).
    # Never loaded into objects; reading one is an error rather than a hidden lazy load,
    # which async sessions cannot do. NOT NULL: an unknown priority or status is refused.
    priority_rank: Mapped[int] = mapped_column(
        SmallInteger,
        Computed(PRIORITY_RANK_SQL, persisted=True),
        deferred=True,
        deferred_raiseload=True,
    )
    status_rank: Mapped[int] = mapped_column(
        SmallInteger,
        Computed(STATUS_RANK_SQL, persisted=True),
        deferred=True,
        deferred_raiseload=True,
    )
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="RESTRICT"))
    subtopic_id: Mapped[int | None] = mapped_column(ForeignKey("subtopics.id", ondelete="RESTRICT"))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"))
    access_level: Mapped[str] = mapped_column(String(16), default=AccessLevel.ACCOUNT_USERS)
    # {"request_id", "user_agent", "location", "info", "service"}
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # The channel it was filed through: "api", "web" or a face's name, in lower case. A
    # column of its own, not a key of context: the list filters by it and the faces' rate
    # limits count by it, each through an index.
    via: Mapped[str] = mapped_column(String(32), default="api", server_default="api")
    follow_up_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    split_from_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL")
    )
    # The team working the ticket. No foreign key: SQLite cannot add one to this table
    # without rebuilding it (docs/architecture.md); groups are deactivated rather than
    # deleted, and one that tickets point at cannot be deleted (groups.service).
    group_id: Mapped[int | None] = mapped_column(Integer)
    tp_id: Mapped[str | None] = mapped_column(String(255))
    external_url: Mapped[str | None] = mapped_column(String(2048))
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    rating_score: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    # All comments, and how many of them are internal notes: customers are shown the
    # difference, so that the count does not betray notes they cannot see.
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    internal_note_count: Mapped[int] = mapped_column(Integer, default=0)
    # Read state per side: when each side last read the ticket, and when the other side
    # last added something it should read.
    customer_read_at: Mapped[datetime | None]
    agent_read_at: Mapped[datetime | None]
    last_customer_activity_at: Mapped[datetime | None]
    last_agent_activity_at: Mapped[datetime | None]
    # Bumped on every change; the ETag is derived from it.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    solved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # When the status last changed (the creation time until then): automations wait on it
    # ("pending for 72 hours"). Migration 0017 filled it from updated_at.
    status_changed_at: Mapped[datetime | None]
    # The SLA as the ticket's answer shows it (written by helpwire.sla, which keeps its
    # clocks in ticket_slas): {"policy", "first_reply_due_at", "next_reply_due_at",
    # "resolution_due_at", "breaches", "paused"}; None without a policy. The soonest due
    # time of a running clock, and whether any target was breached, are columns of their
    # own, indexed for the queues.
    sla: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    sla_due_at: Mapped[datetime | None]
    sla_breached: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    # Joined: one ticket (by number, by id, for update) comes with all of these in a single
    # query. Never for lists: with a filter, PostgreSQL joined all of the table before
    # filtering it (0.6 s for one requester's tickets at 300,000). Ticket lists go through
    # tickets.listing, which loads these with selectin instead (one "IN" query each).
    requester: Mapped[User] = relationship(foreign_keys=[requester_id], lazy="joined")
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    account: Mapped[Account | None] = relationship(lazy="joined")
    topic: Mapped[Topic | None] = relationship(lazy="joined")
    subtopic: Mapped[Subtopic | None] = relationship(lazy="joined")
    group: Mapped[Group | None] = relationship(
        primaryjoin="foreign(Ticket.group_id) == Group.id", lazy="joined"
    )
    projects: Mapped[list[Project]] = relationship(
        secondary="ticket_projects", order_by="Project.key", lazy="selectin"
    )
    tag_rows: Mapped[list[TicketTag]] = relationship(
        order_by="TicketTag.tag", lazy="selectin", cascade="all, delete-orphan"
    )
    follow_up_of: Mapped[Ticket | None] = relationship(
        foreign_keys=[follow_up_of_id], remote_side=[id], lazy="selectin", join_depth=1
    )
    split_from: Mapped[Ticket | None] = relationship(
        foreign_keys=[split_from_id], remote_side=[id], lazy="selectin", join_depth=1
    )
    merged_into: Mapped[Ticket | None] = relationship(
        foreign_keys=[merged_into_id], remote_side=[id], lazy="selectin", join_depth=1
    )

    @property
    def tags(self) -> list[str]:
        # Sorted here, not by the database's collation, as every answer sorts them.
        return sorted(row.tag for row in self.tag_rows)


class TicketProject(Base):
    __tablename__ = "ticket_projects"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="RESTRICT"), primary_key=True, index=True
    )


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    # A tag's tickets newest first, read from the index (migration 0013); its first column
    # also finds a tag's rows for a count.
    __table_args__ = (Index("ix_ticket_tags_tag_created", "tag", "ticket_created_at", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The ticket's created_at, which never changes (tickets.listing orders a tag's list by it).
    ticket_created_at: Mapped[datetime]


class Comment(Base):
    __tablename__ = "comments"
    # A ticket's comments are listed and paged by id.
    __table_args__ = (Index("ix_comments_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    body: Mapped[str] = mapped_column(Text)
    body_format: Mapped[str] = mapped_column(String(16), default=BodyFormat.TEXT)
    body_html: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    rating_score: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The number of the ticket a merge or a split took the comment from, and when
    # (tickets.moving): numbers never change, and every answer shows it ("from #N").
    moved_from_number: Mapped[int | None] = mapped_column(BigInteger)
    moved_at: Mapped[datetime | None]

    author: Mapped[User] = relationship(lazy="joined")
    files: Mapped[list[File]] = relationship(order_by="File.created_at", lazy="selectin")


class TicketFollower(Base):
    """A member of staff who follows a ticket: it is in their "Following" queue, and the
    channels whose ``followers`` filter names them hear of its every change."""

    __tablename__ = "ticket_followers"
    # The other way round from the key: the tickets one user follows, for their queue.
    __table_args__ = (Index("ix_ticket_followers_user_ticket", "user_id", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")
    # Read with the row: a list of followers answers who added each without a query each.
    added_by: Mapped[User | None] = relationship(foreign_keys=[added_by_id], lazy="joined")


class Event(Base):
    """One change, appended in the transaction that made it. Never updated or deleted."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_ticket_id_id", "ticket_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    uid: Mapped[str] = mapped_column(UUIDString, unique=True, default=new_uuid)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    type: Mapped[str] = mapped_column(String(64))
    # Shown to staff only (internal notes and what they touch).
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    # {"changes": {"field": {"before": ..., "after": ...}}, ...}: the event's own facts.
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[User | None] = relationship(lazy="joined")
