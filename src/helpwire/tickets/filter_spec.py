"""A ticket list's filters as a JSON object: the same names and values as the list's query
parameters (``GET /api/v1/tickets?status=open,pending&assignee=me``), so that what a saved
view or a bulk change names is exactly what a list shows. Read through
:class:`~helpwire.tickets.list_query.TicketListQuery`, with its rules and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpwire.problems import ValidationProblem
from helpwire.tickets.list_query import TicketListQuery
from helpwire.tickets.listing import MAX_DUE_WITHIN, TicketFilters

# The filters given as words, and the member of TicketFilters each sets.
_WORD_FILTERS = {
    "status": "statuses",
    "priority": "priorities",
    "type": "types",
    "access_level": "access_levels",
}
Words = Annotated[str, StringConstraints(max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TicketFilter(BaseModel):
    """Every member is optional; the ticket list's parameter of the same name explains it.
    Words (status, priority, type, access_level) may hold several, comma-separated."""

    model_config = ConfigDict(extra="forbid")

    status: Words | None = Field(default=None, description="One or more, comma-separated.")
    priority: Words | None = Field(default=None, description="One or more, comma-separated.")
    type: Words | None = Field(default=None, description="One or more, comma-separated.")
    access_level: Words | None = Field(default=None, description="One or more, comma-separated.")
    topic: Text | None = None
    subtopic: Text | None = None
    assignee: Text | None = Field(default=None, description="A username, `me` or `none`.")
    requester: Text | None = Field(default=None, description="A username or `me`.")
    tag: Text | None = None
    account: Text | None = None
    project: Text | None = None
    via: Text | None = None
    escalated: bool | None = None
    rated: bool | None = None
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    created_after: Text | None = Field(default=None, description="An ISO 8601 date or time.")
    created_before: Text | None = Field(default=None, description="An ISO 8601 date or time.")
    updated_after: Text | None = Field(default=None, description="An ISO 8601 date or time.")
    updated_before: Text | None = Field(default=None, description="An ISO 8601 date or time.")
    q: Annotated[str, StringConstraints(min_length=1, max_length=500)] | None = Field(
        default=None, description="Words in subject, comments or file names."
    )
    group: Text | None = Field(default=None, description="A group's key, `mine` or `none`.")
    sla_breached: bool | None = None
    due_within: Annotated[int, Field(ge=0, le=MAX_DUE_WITHIN)] | None = None

    def given(self) -> dict[str, Any]:
        """Only the members that filter: what is stored, and answered back."""
        return self.model_dump(exclude_none=True)

    def query(self) -> TicketListQuery:
        values: dict[str, Any] = self.given()
        for name in _WORD_FILTERS:
            values[name] = (values[name],) if name in values else ()
        return TicketListQuery(**values)

    def filters(self, *, field: str = "filter") -> TicketFilters:
        """The filters, or a 422 naming the member (``filter.status``) that cannot be read."""
        found, refusals = self.query().read()
        if refusals:
            first = refusals[0]
            raise ValidationProblem.for_field(f"{field}.{first.field}", first.message, first.code)
        return found


def filter_of(filters: TicketFilters) -> TicketFilter:
    """The parameters that list ``filters`` (the console's list, saved as a view)."""
    values: dict[str, Any] = {}
    for name, target in _WORD_FILTERS.items():
        members = getattr(filters, target)
        if members:
            values[name] = ",".join(member.value for member in members)
    for name in TicketFilter.model_fields:
        if name in _WORD_FILTERS:
            continue
        value = getattr(filters, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value is not None:
            values[name] = value
    return TicketFilter(**values)


def query_parameters(ticket_filter: TicketFilter) -> dict[str, str]:
    """The filter as the console's list reads it from its address (yes and no for flags)."""
    shown = {True: "yes", False: "no"}
    return {
        name: shown[value] if isinstance(value, bool) else str(value)
        for name, value in ticket_filter.given().items()
    }
