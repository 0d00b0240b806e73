"""The conditions of triggers and automations: checked when a rule is saved, evaluated
against a ticket (and, for a trigger, the event it runs on).

A condition is ``{"field": ..., "op": ..., "value": ...}``; a rule's conditions must all
hold. Values name things by key or username, as the API does, and are compared with the
ticket's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from helpwire.problems import ValidationProblem
from helpwire.sla.calendars import BusinessHours
from helpwire.tickets.models import Event, Priority, Status, Ticket, TicketType

# field -> how to read the ticket's value (a key, a username, a word, or None)
_VALUES: dict[str, Callable[[Ticket], str | None]] = {
    "status": lambda t: t.status,
    "priority": lambda t: t.priority,
    "type": lambda t: t.type,
    "via": lambda t: t.via,
    "topic": lambda t: t.topic.key if t.topic else None,
    "group": lambda t: t.group.key if t.group else None,
    "assignee": lambda t: t.assignee.username if t.assignee else None,
    "requester": lambda t: t.requester.username,
    "account": lambda t: t.account.key if t.account else None,
}
_ENUMS: dict[str, set[str]] = {
    "status": {s.value for s in Status},
    "priority": {p.value for p in Priority},
    "type": {t.value for t in TicketType},
}
VALUE_OPS = ("is", "is_not", "in", "not_in")
TAG_OPS = ("includes", "excludes")
TEXT_OPS = ("contains", "not_contains")
# Automations only: minutes the ticket has been as it is, by what it waited since.
TIME_FIELDS = {
    "minutes_since_status_change": "status_changed_at",
    "minutes_since_update": "updated_at",
    "minutes_since_created": "created_at",
}
MAX_MINUTES = 525_600 * 5


@dataclass(frozen=True)
class Situation:
    """What conditions are evaluated against: the ticket, the event a trigger runs on (None
    for automations), the time, and the calendars by key (for business hours)."""

    ticket: Ticket
    event: Event | None
    now: datetime
    text: str  # a trigger's comment text or subject, lower case ("" when none)
    calendars: Mapping[str, BusinessHours]


def check_conditions(
    conditions: Sequence[Mapping[str, Any]], *, timed: bool, calendar_keys: set[str]
) -> list[dict[str, Any]]:
    """The conditions in their stored form, or a 422 naming the first that is wrong.
    ``timed``: an automation's (time conditions allowed, text ones not)."""
    clean = []
    for index, condition in enumerate(conditions):
        clean.append(_check_one(f"conditions[{index}]", condition, timed, calendar_keys))
    if timed and not any(c["field"] in TIME_FIELDS for c in clean):
        raise ValidationProblem.for_field(
            "conditions", "an automation waits on a time: give a minutes_since_… condition"
        )
    return clean


def _check_one(
    where: str, condition: Mapping[str, Any], timed: bool, calendar_keys: set[str]
) -> dict[str, Any]:
    field, op, value = condition.get("field"), condition.get("op"), condition.get("value")
    if field in _VALUES:
        return _check_value(where, field, op, value)
    if field == "tags":
        _need(where, op in TAG_OPS, f"op is one of {', '.join(TAG_OPS)}")
        return {"field": field, "op": op, "value": _words(where, value)}
    if field == "text" and not timed:
        _need(where, op in TEXT_OPS, f"op is one of {', '.join(TEXT_OPS)}")
        _need(where, isinstance(value, str) and 0 < len(value) <= 500, "value is 1..500 characters")
        return {"field": field, "op": op, "value": str(value).lower()}
    if field == "business_hours":
        _need(where, op == "is" and isinstance(value, bool), "op is, value true or false")
        calendar = condition.get("calendar") or "24-7"
        _need(where, calendar in calendar_keys, f"no calendar {calendar!r}")
        return {"field": field, "op": op, "value": value, "calendar": calendar}
    if field in TIME_FIELDS and timed:
        _need(where, op == "gte", "op is gte (at least this many minutes)")
        ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_MINUTES
        _need(where, ok, f"value is 1..{MAX_MINUTES} minutes")
        return {"field": field, "op": op, "value": value}
    known = [*_VALUES, "tags", "business_hours", *(TIME_FIELDS if timed else ["text"])]
    raise ValidationProblem.for_field(f"{where}.field", f"one of {', '.join(known)}")


def _check_value(where: str, field: str, op: Any, value: Any) -> dict[str, Any]:
    _need(where, op in VALUE_OPS, f"op is one of {', '.join(VALUE_OPS)}")
    values = value if op in ("in", "not_in") else [value]
    _need(where, isinstance(values, list) and len(values) <= 100, "value is a list (in, not_in)")
    for item in values:
        _need(where, item is None or isinstance(item, str), "values are text or null")
        if field in _ENUMS and item not in _ENUMS[field]:
            allowed = ", ".join(sorted(_ENUMS[field]))
            raise ValidationProblem.for_field(f"{where}.value", f"{item!r}: one of {allowed}")
    return {"field": field, "op": op, "value": value}


def _words(where: str, value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value]
    _need(where, all(isinstance(i, str) and i.strip() for i in items), "value is tags")
    return sorted({str(i).strip().lower() for i in items})


def _need(where: str, ok: bool, message: str) -> None:
    if not ok:
        raise ValidationProblem.for_field(where, message)


def holds(conditions: Sequence[Mapping[str, Any]], situation: Situation) -> bool:
    return all(_holds(condition, situation) for condition in conditions)


def _holds(condition: Mapping[str, Any], s: Situation) -> bool:
    field, op, value = condition["field"], condition["op"], condition["value"]
    if field in _VALUES:
        actual = _VALUES[field](s.ticket)
        wanted = value if op in ("in", "not_in") else [value]
        return (actual in wanted) == (op in ("is", "in"))
    if field == "tags":
        has = bool(set(value) & set(s.ticket.tags))
        return has if op == "includes" else not has
    if field == "text":
        found = value in s.text
        return found if op == "contains" else not found
    if field == "business_hours":
        hours = s.calendars.get(condition.get("calendar", "24-7"), BusinessHours())
        return hours.is_open(s.now) is value
    if field in TIME_FIELDS:
        since = getattr(s.ticket, TIME_FIELDS[field]) or s.ticket.updated_at
        return s.now - since >= timedelta(minutes=int(value))
    return False
