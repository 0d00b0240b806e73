"""A ticket list as an entry point was asked for it, read once for all of them.

The API, the console's filter form and the Selectel face each receive filters their own way
(typed query parameters, a lenient form, a product's flags), but the values that need
reading (statuses, priorities, types and access levels given as comma-separated words, and
time windows given as ISO 8601 text) are read here, with the same rules and the same
messages. What cannot be read is a :class:`Refusal`: the API refuses the request at the
first one (a 422), the console shows them all next to the list.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, TypeVar

from helpwire.problems import ValidationProblem
from helpwire.tickets.listing import TicketFilters, parse_filter_time
from helpwire.tickets.models import AccessLevel, Priority, Status, TicketType

E = TypeVar("E", bound=enum.Enum)

# The filters given as words, one or more (each value may hold several, comma-separated):
# (the query's field, the parameter's name, the filter it sets, its words).
_ENUM_FILTERS: tuple[tuple[str, str, str, type[enum.Enum]], ...] = (
    ("status", "status", "statuses", Status),
    ("priority", "priority", "priorities", Priority),
    ("type", "type", "types", TicketType),
    ("access_level", "access_level", "access_levels", AccessLevel),
)
TIME_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")
# Filters taken as they come (text, yes/no, a score): the entry point has typed them.
_PLAIN_FILTERS = (
    "topic",
    "subtopic",
    "assignee",
    "requester",
    "tag",
    "account",
    "project",
    "via",
    "escalated",
    "rated",
    "rating",
    "q",
    "group",
    "sla_breached",
    "due_within",
    "following",
    "fields",
)


@dataclass(frozen=True)
class Refusal:
    """A value that could not be read: the parameter, why, a code, and the text given."""

    field: str
    message: str
    code: str
    given: str


@dataclass(frozen=True)
class TicketListQuery:
    """The filters of a ticket list as given. Words and times are raw text (no words: no
    filter; a time of None: no filter, an empty one is refused); everything else is typed
    by the entry point already. :meth:`read` turns it into :class:`TicketFilters` over a
    base (a console queue's preset, or no filter), each given filter replacing the base's."""

    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    type: tuple[str, ...] = ()
    access_level: tuple[str, ...] = ()
    created_after: str | None = None
    created_before: str | None = None
    updated_after: str | None = None
    updated_before: str | None = None
    topic: str | None = None
    subtopic: str | None = None
    assignee: str | None = None  # a username, "me" or "none"
    requester: str | None = None  # a username or "me"
    tag: str | None = None
    account: str | None = None
    project: str | None = None
    via: str | None = None
    escalated: bool | None = None
    rated: bool | None = None
    rating: int | None = None
    q: str | None = None
    group: str | None = None  # a key, "mine" or "none"
    sla_breached: bool | None = None
    due_within: int | None = None  # minutes
    following: bool | None = None  # the caller follows the ticket
    fields: tuple[tuple[str, str], ...] = ()  # (key, value) of each custom field filter

    def read(self, base: TicketFilters | None = None) -> tuple[TicketFilters, list[Refusal]]:
        """The filters, and every value that could not be read (left out of them)."""
        refusals: list[Refusal] = []
        overrides: dict[str, Any] = {}
        for name, parameter, target, enum_type in _ENUM_FILTERS:
            raw: tuple[str, ...] = getattr(self, name)
            members = _enums(parameter, raw, enum_type, refusals)
            if members is not None:
                overrides[target] = members
        for name in TIME_FILTERS:
            moment = _time(name, getattr(self, name), refusals)
            if moment is not None:
                overrides[name] = moment
        for name in _PLAIN_FILTERS:
            value = getattr(self, name)
            if value is not None:
                overrides[name] = value
        return replace(base or TicketFilters(), **overrides), refusals

    def filters(self) -> TicketFilters:
        """The filters, or a 422 naming the first value that could not be read."""
        found, refusals = self.read()
        if refusals:
            first = refusals[0]
            raise ValidationProblem.for_field(first.field, first.message, first.code)
        return found


def _parts(values: Iterable[str]) -> list[str]:
    """Every value, comma-separated ones split, empty ones left out."""
    return [part.strip() for raw in values for part in raw.split(",") if part.strip()]


def _enums(
    name: str, values: tuple[str, ...], enum_type: type[E], refusals: list[Refusal]
) -> tuple[E, ...] | None:
    """The words as members, each once, in the order given; None when none was given."""
    parts = _parts(values)
    if not parts:
        return None
    members: list[E] = []
    for part in parts:
        try:
            members.append(enum_type(part))
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum_type)
            refusals.append(
                Refusal(name, f"unknown value {part!r}; one of {allowed}", "enum", part)
            )
    return tuple(dict.fromkeys(members))


def _time(name: str, raw: str | None, refusals: list[Refusal]) -> datetime | None:
    if raw is None:
        return None
    try:
        return parse_filter_time(raw)
    except ValueError as error:
        refusals.append(Refusal(name, str(error), "datetime", raw))
        return None


# Every field of the query is one of the three kinds above.
assert {f.name for f in fields(TicketListQuery)} == {
    *(name for name, *_rest in _ENUM_FILTERS),
    *TIME_FILTERS,
    *_PLAIN_FILTERS,
}
