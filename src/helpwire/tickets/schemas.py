"""Request and response bodies of the native tickets API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpwire.fields.schemas import FieldValueOut, FieldValuesIn
from helpwire.tickets.listing import COUNT_CAP, RELEVANCE_CANDIDATES, SEARCH_COUNT_CAP
from helpwire.tickets.models import (
    AccessLevel,
    BodyFormat,
    FiledVia,
    Priority,
    Status,
    TicketType,
)
from helpwire.types import MAX_INT32, JsonObject, TicketNumber

MAX_BODY_CHARS = 50_000
MAX_SUBJECT_CHARS = 255
MAX_TAGS = 20

Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_SUBJECT_CHARS)
]
Body = Annotated[str, StringConstraints(min_length=1, max_length=MAX_BODY_CHARS, pattern=r"\S")]
Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=64, pattern=r"^[\w.:/-]+$"
    ),
]
Score5 = Annotated[int, Field(ge=1, le=5)]
ShortText = Annotated[str, StringConstraints(max_length=MAX_BODY_CHARS)]


class Strict(BaseModel):
    """Unknown fields are an error: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


class ContextIn(Strict):
    request_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    user_agent: Annotated[str, StringConstraints(max_length=1024)] | None = None
    location: Annotated[str, StringConstraints(max_length=2048)] | None = None
    info: JsonObject | None = None


class TicketCreate(Strict):
    subject: Subject
    body: Body
    body_format: BodyFormat = BodyFormat.TEXT
    type: TicketType = TicketType.QUESTION
    priority: Priority = Priority.NORMAL
    topic: str | None = None
    subtopic: str | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] = []
    files: list[str] = []
    access_level: AccessLevel = AccessLevel.ACCOUNT_USERS
    projects: list[str] = []
    attributes: JsonObject = {}
    fields: FieldValuesIn = {}
    context: ContextIn | None = None
    follow_up_of: TicketNumber | None = Field(
        default=None, description="Number of a closed ticket."
    )
    tp_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    external_url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    requester: str | None = Field(
        default=None, description="Staff only: file the ticket for this user (username)."
    )
    via: FiledVia | None = Field(
        default=None,
        description="Staff only: how the requester reached support (a ticket filed for a "
        "customer who phoned, wrote in a chat, walked in or e-mailed); `api` when left out.",
    )


class TicketUpdate(Strict):
    """Fields left out stay as they are; ``null`` clears the clearable ones."""

    subject: Subject | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    status: Status | None = None
    topic: str | None = None
    subtopic: str | None = None
    tags: Annotated[list[Tag], Field(max_length=MAX_TAGS)] | None = None
    assignee: str | None = None
    group: str | None = Field(default=None, description="A group's key; staff only.")
    access_level: AccessLevel | None = None
    projects: list[str] | None = None
    attributes: JsonObject | None = None
    fields: FieldValuesIn | None = None
    tp_id: Annotated[str, StringConstraints(max_length=255)] | None = None
    external_url: Annotated[str, StringConstraints(max_length=2048)] | None = None


class CommentCreate(Strict):
    body: Body
    body_format: BodyFormat = BodyFormat.TEXT
    internal: bool = False
    files: list[str] = []
    status: Status | None = Field(
        default=None,
        description="Staff only: the ticket's status after this comment (reply and set "
        "pending or solved in one request; the lifecycle's moves apply).",
    )


class CloseRequest(Strict):
    score: Score5 | None = None
    comment: ShortText | None = None


class ReopenRequest(Strict):
    body: Body
    body_format: BodyFormat = BodyFormat.TEXT
    files: list[str] = []


class TicketRatingRequest(Strict):
    score: Score5
    comment: ShortText | None = None


class CommentRatingRequest(Strict):
    score: Annotated[int, Field(description="+1 or -1")]
    comment: ShortText | None = None


class UserRef(BaseModel):
    username: str
    real_name: str
    email: str | None
    role: str


class Rating(BaseModel):
    score: int
    comment: str | None
    rated_at: datetime | None


class TicketContext(BaseModel):
    request_id: str | None = None
    user_agent: str | None = None
    location: str | None = None
    info: dict[str, Any] = {}
    via: str = "api"
    service: str | None = Field(
        default=None, description="The service user that filed it on the requester's behalf."
    )


class Relations(BaseModel):
    follow_up_of: int | None
    split_from: int | None
    merged_into: int | None


class ReadState(BaseModel):
    customer: bool = Field(description="The customer side has seen everything support wrote.")
    agent: bool = Field(description="Support has seen everything the customer side wrote.")


class SlaBreach(BaseModel):
    target: str = Field(description="`first_reply`, `next_reply` or `resolution`.")
    due_at: datetime
    breached_at: datetime


class SlaState(BaseModel):
    """The ticket's service level under its policy: due times of the clocks that run (null
    while paused, stopped or not started), and every breach so far."""

    policy: str = Field(description="The policy's name.")
    first_reply_due_at: datetime | None
    next_reply_due_at: datetime | None
    resolution_due_at: datetime | None
    breaches: list[SlaBreach]
    paused: bool = Field(description="Whether the clocks stand still (pending, on hold, solved).")


class TicketOut(BaseModel):
    number: int
    uid: str
    subject: str
    status: Status
    priority: Priority
    type: TicketType
    topic: str | None
    subtopic: str | None
    tags: list[str]
    requester: UserRef
    assignee: UserRef | None
    account: str | None
    projects: list[str]
    access_level: AccessLevel
    context: TicketContext
    attributes: dict[str, Any]
    fields: dict[str, FieldValueOut] = Field(
        description="Custom field values by key; customers see only the fields shown to them."
    )
    relations: Relations
    tp_id: str | None
    external_url: str | None
    rating: Rating | None
    escalated: bool
    comment_count: int
    read: ReadState
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    group: str | None = Field(description="The key of the group working it (staff only).")
    sla: SlaState | None = Field(description="Its service level, if a policy applies (staff only).")


class ListCount(BaseModel):
    """How many items the whole list holds (every page, the same filters), counted up to a
    cap so that a list of any size answers fast."""

    value: int = Field(
        description="The number of items; when `exact` is false, the cap: there are more. "
        f"The cap is {COUNT_CAP:,} for a list and {SEARCH_COUNT_CAP:,} for a search (`q`)."
    )
    exact: bool = Field(
        description="True when `value` is the exact number; false when the count stopped "
        "at the cap."
    )


class Ranking(BaseModel):
    """Which matches a list by relevance ranked."""

    ranked: int = Field(
        description="How many matches were ranked: the newest that pass the filters, at most "
        f"{RELEVANCE_CANDIDATES:,}."
    )
    complete: bool = Field(
        description="True when every match was ranked; false when older matches were left "
        "out (add words or filters to reach them, or page newest first)."
    )


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None
    count: ListCount = Field(
        description="How many tickets the list holds in all (not only this page), exact up "
        f"to {COUNT_CAP:,} ({SEARCH_COUNT_CAP:,} when searching with `q`)."
    )
    ranking: Ranking | None = Field(
        default=None,
        description="With `sort=relevance`: how many matches were ranked; null otherwise, "
        "and on a page by a cursor that nothing follows any more.",
    )


class FileOut(BaseModel):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime


class CommentOut(BaseModel):
    id: int
    ticket_number: int
    author: UserRef
    body: str
    body_format: BodyFormat
    body_html: str
    internal: bool
    files: list[FileOut]
    rating: Rating | None
    created_at: datetime
    moved_from: int | None = Field(
        default=None,
        description="The number of the ticket a merge or a split moved it from "
        "(`ticket_number` is the one it is on now).",
    )


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_cursor: str | None


class EventOut(BaseModel):
    id: int
    uid: str
    type: str
    actor: UserRef | None
    internal: bool
    data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


CommentId = Annotated[int, Field(ge=1, le=MAX_INT32)]


class MergeRequest(Strict):
    into: TicketNumber = Field(
        description="The ticket of the same account that takes this one's conversation."
    )


class SplitRequest(Strict):
    comment_ids: list[CommentId] = Field(
        min_length=1,
        max_length=500,
        description="Comments of this ticket to move to the new ticket: at least one public, "
        "and not all of the ticket's.",
    )
    subject: Subject | None = Field(default=None, description="Default: this ticket's subject.")


class FollowRequest(Strict):
    username: Annotated[str, StringConstraints(min_length=1, max_length=150)] | None = Field(
        default=None, description="A member of staff; default: the caller."
    )


class FollowerOut(BaseModel):
    username: str
    real_name: str
    added_by: str | None = Field(description="The username of who made them follow it.")
    created_at: datetime


class FollowersOut(BaseModel):
    followers: list[FollowerOut]
    cc: list[str] = Field(
        description="The ticket's CC addresses (managed at /api/v1/tickets/{number}/cc)."
    )
