"""A ticket list's filters as a JSON object: the same names and values as the list's query
parameters (``GET /api/v1/tickets?status=open,pending&assignee=me``), so that what a saved
view or a bulk change names is exactly what a list shows. Read through
:class:`~helpwire.tickets.list_query.TicketListQuery`, with its rules and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpwire.fields.filters import FILTER_PREFIX
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
# A custom field's filter values, as repeated ``field.<key>=...`` parameters give them.
FieldValues = Annotated[list[Text], Field(min_length=1, max_length=20)]


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
    following: bool | None = Field(
        default=None, description="Tickets the caller follows (true) or does not (false)."
    )
    fields: Annotated[dict[Text, FieldValues], Field(max_length=20)] | None = Field(
        default=None,
        description="Custom fields, by key: the values of the list's `field.<key>` "
        "parameters (any of several; `from..to` a range).",
    )

    def given(self) -> dict[str, Any]:
        """Only the members that filter: what is stored, and answered back."""
        return self.model_dump(exclude_none=True)

    def query(self) -> TicketListQuery:
        values: dict[str, Any] = self.given()
        for name in _WORD_FILTERS:
            values[name] = (values[name],) if name in values else ()
        wanted = values.pop("fields", None) or {}
        values["fields"] = tuple((key, value) for key, given in wanted.items() for value in given)
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
    for key, value in filters.fields:
        values.setdefault("fields", {}).setdefault(key, []).append(value)
    for name in TicketFilter.model_fields:
        if name in _WORD_FILTERS or name == "fields":
            continue
        value = getattr(filters, name)
        if isinstance(value, datetime):
            value = value.isoformat()
        if value is not None:
            values[name] = value
    return TicketFilter(**values)


def query_parameters(ticket_filter: TicketFilter) -> list[tuple[str, str]]:
    """The filter as the console's list reads it from its address (yes and no for flags;
    a custom field's values as repeated ``field.<key>`` parameters)."""
    shown = {True: "yes", False: "no"}
    given = ticket_filter.given()
    fields: dict[str, list[str]] = given.pop("fields", {})
    parameters = [
        (name, shown[value] if isinstance(value, bool) else str(value))
        for name, value in given.items()
    ]
    return parameters + [
        (FILTER_PREFIX + key, value) for key, values in fields.items() for value in values
    ]
