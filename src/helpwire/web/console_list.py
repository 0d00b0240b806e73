"""The console's ticket list: the filter form's query string, read into tickets.listing's
filters, and back into the values the form shows.

A queue (``?queue=new``) is a preset of filters; the form shows the preset's values, so
submitting the form (which does not carry the queue) lists the same tickets until the
agent changes something."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import TypeVar

from starlette.datastructures import QueryParams

from helpwire.tickets.listing import MAX_PAGE, SortField, SortOrder, TicketFilters
from helpwire.tickets.models import Priority, Status, TicketType
from helpwire.tickets.queues import QUEUES_BY_NAME, Queue

E = TypeVar("E", bound=enum.Enum)

PAGE_SIZE = 50
MAX_TEXT = 200
MAX_QUERY = 500
# The sorts the list offers (listing also knows "number", which created_at equals).
SORTS = (SortField.CREATED_AT, SortField.UPDATED_AT, SortField.PRIORITY, SortField.STATUS)
_TEXT_FILTERS = ("topic", "assignee", "requester", "tag", "account", "project")


@dataclass
class ListRequest:
    queue: Queue | None
    filters: TicketFilters
    sort: SortField = SortField.CREATED_AT
    order: SortOrder = SortOrder.DESC
    cursor: str | None = None
    limit: int = PAGE_SIZE
    errors: list[str] = field(default_factory=list)

    @property
    def refined(self) -> bool:
        """Whether filters beyond the queue's own (and the search) are set: only then does
        the filter panel start open, so that on a phone the list is not pushed below it."""
        base = self.queue.filters if self.queue else TicketFilters()
        return replace(self.filters, q=None) != replace(base, q=None)

    def form(self) -> dict[str, object]:
        """The values the filter form shows."""
        f = self.filters
        return {
            "statuses": {s.value for s in f.statuses},
            "priority": f.priorities[0].value if len(f.priorities) == 1 else "",
            "type": f.types[0].value if len(f.types) == 1 else "",
            "escalated": "" if f.escalated is None else ("yes" if f.escalated else "no"),
            "q": f.q or "",
            "sort": self.sort.value,
            "order": self.order.value,
            **{name: getattr(f, name) or "" for name in _TEXT_FILTERS},
        }


def _values(params: QueryParams, name: str) -> list[str]:
    """All values of a parameter, comma-separated ones split, empty ones left out."""
    found: list[str] = []
    for raw in params.getlist(name):
        found += [part.strip() for part in raw.split(",") if part.strip()]
    return found


def _enums(
    params: QueryParams, name: str, enum_type: type[E], errors: list[str]
) -> tuple[E, ...] | None:
    """The parameter's values as enum members; None when it was not given."""
    values = _values(params, name)
    if not values:
        return None
    members: list[E] = []
    for value in values:
        try:
            members.append(enum_type(value))
        except ValueError:
            allowed = ", ".join(str(m.value) for m in enum_type)
            errors.append(f"{name}: unknown value “{value[:40]}”; one of {allowed}")
    return tuple(dict.fromkeys(members))


def _text(params: QueryParams, name: str, errors: list[str], limit: int = MAX_TEXT) -> str | None:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        errors.append(f"{name}: at most {limit} characters")
        return None
    return value or None


def _choice(params: QueryParams, name: str, enum_type: type[E], default: E, errors: list[str]) -> E:
    value = params.get(name)
    if not value:
        return default
    try:
        return enum_type(value)
    except ValueError:
        errors.append(f"{name}: unknown value “{value[:40]}”")
        return default


def _escalated(params: QueryParams, errors: list[str]) -> bool | None:
    value = (params.get("escalated") or "").strip().lower()
    if value in ("", "any"):
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    errors.append("escalated: yes or no")
    return None


def _limit(params: QueryParams, errors: list[str]) -> int:
    value = (params.get("limit") or "").strip()
    if not value:
        return PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE:
        errors.append(f"limit: a number 1..{MAX_PAGE}")
        return PAGE_SIZE
    return int(value)


def read_list_request(params: QueryParams) -> ListRequest:
    """The list the query string asks for, and what in it could not be understood."""
    errors: list[str] = []
    queue = QUEUES_BY_NAME.get(params.get("queue") or "")
    if params.get("queue") and queue is None:
        errors.append(f"queue: no queue “{(params.get('queue') or '')[:40]}”")
    filters = queue.filters if queue else TicketFilters()
    overrides: dict[str, object] = {}
    statuses = _enums(params, "status", Status, errors)
    if statuses is not None:
        overrides["statuses"] = statuses
    priorities = _enums(params, "priority", Priority, errors)
    if priorities is not None:
        overrides["priorities"] = priorities
    types = _enums(params, "type", TicketType, errors)
    if types is not None:
        overrides["types"] = types
    for name in _TEXT_FILTERS:
        value = _text(params, name, errors)
        if value is not None:
            overrides[name] = value.lower() if name == "tag" else value
    escalated = _escalated(params, errors)
    if escalated is not None:
        overrides["escalated"] = escalated
    q = _text(params, "q", errors, MAX_QUERY)
    if q is not None:
        overrides["q"] = q
    sort = _choice(params, "sort", SortField, SortField.CREATED_AT, errors)
    if sort not in SORTS:
        errors.append(f"sort: one of {', '.join(s.value for s in SORTS)}")
        sort = SortField.CREATED_AT
    return ListRequest(
        queue=queue,
        filters=replace(filters, **overrides),  # type: ignore[arg-type]
        sort=sort,
        order=_choice(params, "order", SortOrder, SortOrder.DESC, errors),
        cursor=_text(params, "cursor", errors, 1000),
        limit=_limit(params, errors),
        errors=errors,
    )
