"""Request and response bodies of the triggers, automations and macros API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from helpwire.tickets.models import BodyFormat
from helpwire.tickets.schemas import CommentOut, TicketOut
from helpwire.types import Int32

CONDITIONS_HELP = (
    'All must hold. `{"field", "op", "value"}`: status, priority, type, via, topic, group, '
    "assignee, requester, account with is / is_not / in / not_in; tags with includes / "
    "excludes; business_hours is true/false (with a calendar); triggers: text contains / "
    "not_contains; automations: minutes_since_status_change, minutes_since_update, "
    "minutes_since_created with gte."
)
ACTIONS_HELP = (
    "In order. set_status, set_priority, set_type, set_topic, set_group (value); assign "
    "(a username or null); assign_round_robin, assign_least_open (group); add_tags, "
    "remove_tags (value: a list); add_note, reply (value: a text with placeholders); "
    "notify_channel (value: a channel id); apply_macro (value: a shared macro's id); email "
    "(to: requester, assignee or an address; subject; value)."
)
Condition = dict[str, Any]
Action = dict[str, Any]


class TriggerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    position: Int32 = 0
    is_active: bool = True
    events: list[str] = Field(
        max_length=20,
        description="ticket.created, ticket.updated, ticket.status_changed, comment.customer, "
        "comment.agent, ticket.rated, sla.warning, sla.breached.",
    )
    conditions: list[Condition] = Field(default=[], max_length=50, description=CONDITIONS_HELP)
    actions: list[Action] = Field(max_length=50, description=ACTIONS_HELP)


class TriggerUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    position: Int32 | None = None
    is_active: bool | None = None
    events: list[str] | None = Field(default=None, max_length=20)
    conditions: list[Condition] | None = Field(default=None, max_length=50)
    actions: list[Action] | None = Field(default=None, max_length=50)


class TriggerOut(BaseModel):
    id: int
    name: str
    position: int
    is_active: bool
    events: list[str]
    conditions: list[Condition]
    actions: list[Action]
    created_at: datetime
    updated_at: datetime


class AutomationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    position: Int32 = 0
    is_active: bool = True
    conditions: list[Condition] = Field(max_length=50, description=CONDITIONS_HELP)
    actions: list[Action] = Field(max_length=50, description=ACTIONS_HELP)


class AutomationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    position: Int32 | None = None
    is_active: bool | None = None
    conditions: list[Condition] | None = Field(default=None, max_length=50)
    actions: list[Action] | None = Field(default=None, max_length=50)


class AutomationOut(BaseModel):
    id: int
    name: str
    position: int
    is_active: bool
    conditions: list[Condition]
    actions: list[Action]
    created_at: datetime
    updated_at: datetime


class DryRun(BaseModel):
    tickets: list[int] = Field(
        description="Numbers of the tickets it would act on now (at most 100)."
    )
    checked: int = Field(description="How many tickets were looked at.")


class MacroCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    body: str = Field(
        default="",
        max_length=50_000,
        description="Placeholders: {{ ticket.number }}, {{ ticket.subject }}, "
        "{{ ticket.requester.first_name }}, {{ ticket.assignee.name }}, {{ agent.first_name }}…",
    )
    body_format: BodyFormat = BodyFormat.MARKDOWN
    internal: bool = Field(default=False, description="An internal note rather than a reply.")
    actions: list[Action] = Field(
        default=[],
        max_length=20,
        description="Field changes: set_*, assign, add_tags, remove_tags.",
    )
    shared: bool = Field(default=False, description="For every agent (admins only); else yours.")


class MacroUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    body: str | None = Field(default=None, max_length=50_000)
    body_format: BodyFormat | None = None
    internal: bool | None = None
    actions: list[Action] | None = Field(default=None, max_length=20)


class MacroOut(BaseModel):
    id: int
    name: str
    body: str
    body_format: BodyFormat
    internal: bool
    actions: list[Action]
    shared: bool
    owner: str | None
    created_at: datetime
    updated_at: datetime


class MacroApplied(BaseModel):
    preview: bool
    body: str = Field(description="The text as written for this ticket (empty: none).")
    internal: bool
    changes: list[Action]
    ticket: TicketOut = Field(description="The ticket as it is now (unchanged by a preview).")
    comment: CommentOut | None
