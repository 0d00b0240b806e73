"""The console's ticket list: the filter form's query string, read into tickets.listing's
filters, and back into the values the form shows.

A queue (``?queue=new``) is a preset of filters; the form shows the preset's values, so
submitting the form (which does not carry the queue) lists the same tickets until the
agent changes something."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time
from typing import TypeVar

from starlette.datastructures import QueryParams

from helpwire.faces import FACE_MODULES
from helpwire.fields.filters import FILTER_PREFIX
from helpwire.tickets.list_query import TIME_FILTERS, TicketListQuery
from helpwire.tickets.listing import (
    MAX_PAGE,
    RATING_SCORES,
    SortField,
    SortOrder,
    TicketFilters,
)
from helpwire.tickets.models import AccessLevel
from helpwire.tickets.queues import QUEUES_BY_NAME, Queue
from helpwire.web.i18n import current_locale

E = TypeVar("E", bound=enum.Enum)

PAGE_SIZE = 50
MAX_TEXT = 200
MAX_QUERY = 500
# The sorts the list offers (listing also knows "number", which created_at equals).
SORTS = (
    SortField.CREATED_AT,
    SortField.UPDATED_AT,
    SortField.PRIORITY,
    SortField.STATUS,
    SortField.SLA_DUE_AT,
)
_TEXT_FILTERS = (
    "topic",
    "subtopic",
    "assignee",
    "requester",
    "tag",
    "account",
    "project",
    "via",
    "group",
)
_YES_NO_FILTERS = ("escalated", "rated", "sla_breached")
# The channels a ticket can come through, offered as suggestions (any name is accepted).
CHANNELS = ("web", "api", *FACE_MODULES)
# The options of the filter form's access level, rating and channel fields.
OPTIONS = {
    "access_levels": [a.value for a in AccessLevel],
    "ratings": [str(score) for score in RATING_SCORES],
    "channels": list(CHANNELS),
}


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _time_field(moment: datetime | None) -> tuple[str, str]:
    """A time filter's field: its value and its input's type. A whole day (or nothing) is a
    date picker holding the date; any other time is shown in full, as text, because a date
    picker would show it empty and the next submit would drop it."""
    if moment is None:
        return "", "date"
    moment = moment.astimezone(UTC)
    if moment.time() == time():
        return moment.date().isoformat(), "date"
    return moment.isoformat(), "text"


@dataclass
class ListRequest:
    queue: Queue | None
    filters: TicketFilters
    sort: SortField = SortField.CREATED_AT
    order: SortOrder = SortOrder.DESC
    cursor: str | None = None
    limit: int = PAGE_SIZE
    errors: list[str] = field(default_factory=list)
    # Typed values that were refused, shown again in their fields so they can be fixed.
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def refined(self) -> bool:
        """Whether filters beyond the queue's own (and the search) are set: only then does
        the filter panel start open, so that on a phone the list is not pushed below it."""
        base = self.queue.filters if self.queue else TicketFilters()
        changed = replace(self.filters, q=None) != replace(base, q=None)
        return changed or bool(self.rejected)

    def form(self) -> dict[str, object]:
        """The values the filter form shows (refused time filters as they were typed), the
        type of each time filter's input, and the options of the newer choices."""
        f = self.filters
        times = {name: _time_field(getattr(f, name)) for name in TIME_FILTERS}
        times.update((name, (typed, "text")) for name, typed in self.rejected.items())
        return {
            "statuses": {s.value for s in f.statuses},
            "priority": f.priorities[0].value if len(f.priorities) == 1 else "",
            "type": f.types[0].value if len(f.types) == 1 else "",
            "access_level": f.access_levels[0].value if len(f.access_levels) == 1 else "",
            "rating": str(f.rating) if f.rating is not None else "",
            "due_within": str(f.due_within) if f.due_within is not None else "",
            "q": f.q or "",
            "sort": self.sort.value,
            "order": self.order.value,
            **{name: getattr(f, name) or "" for name in _TEXT_FILTERS},
            **{name: _yes_no(getattr(f, name)) for name in _YES_NO_FILTERS},
            **{name: value for name, (value, _input) in times.items()},
            "time_inputs": {name: input_type for name, (_value, input_type) in times.items()},
            "options": OPTIONS,
        }


def _text(params: QueryParams, name: str, errors: list[str], limit: int = MAX_TEXT) -> str | None:
    value = (params.get(name) or "").strip()
    if len(value) > limit:
        errors.append(
            current_locale().gettext("%(name)s: at most %(n)s characters", name=name, n=limit)
        )
        return None
    return value or None


def _choice(params: QueryParams, name: str, enum_type: type[E], default: E, errors: list[str]) -> E:
    value = params.get(name)
    if not value:
        return default
    try:
        return enum_type(value)
    except ValueError:
        errors.append(
            current_locale().gettext(
                "%(name)s: unknown value “%(value)s”", name=name, value=value[:40]
            )
        )
        return default


def _yes_no_filter(params: QueryParams, name: str, errors: list[str]) -> bool | None:
    value = (params.get(name) or "").strip().lower()
    if value in ("", "any"):
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    errors.append(current_locale().gettext("%(name)s: yes or no", name=name))
    return None


def _rating(params: QueryParams, errors: list[str]) -> int | None:
    value = (params.get("rating") or "").strip()
    if not value:
        return None
    if value not in OPTIONS["ratings"]:
        errors.append(current_locale().gettext("rating: a score 1..5"))
        return None
    return int(value)


def _limit(params: QueryParams, errors: list[str]) -> int:
    value = (params.get("limit") or "").strip()
    if not value:
        return PAGE_SIZE
    # Only short ASCII digits reach int(): it raises on "²" (a digit to isdigit()) and on
    # numbers of thousands of digits, which would make a 500 of a typo.
    short_number = value.isascii() and value.isdigit() and len(value) <= 3
    if not short_number or not 1 <= int(value) <= MAX_PAGE:
        errors.append(current_locale().gettext("limit: a number 1..%(n)s", n=MAX_PAGE))
        return PAGE_SIZE
    return int(value)


def _given(params: QueryParams, name: str) -> str | None:
    return (params.get(name) or "").strip() or None


def _filter_query(params: QueryParams, errors: list[str]) -> TicketListQuery:
    """The filters the query string gives, as the tickets package reads them; what only a
    form needs (text limits, yes/no words, a lower-case tag) is read here, into ``errors``."""
    texts = {name: _text(params, name, errors) for name in _TEXT_FILTERS}
    if texts["tag"] is not None:
        texts["tag"] = texts["tag"].lower()
    return TicketListQuery(
        status=tuple(params.getlist("status")),
        priority=tuple(params.getlist("priority")),
        type=tuple(params.getlist("type")),
        access_level=tuple(params.getlist("access_level")),
        # Custom fields, as the API filters by them (field.<key>=value).
        fields=tuple(
            (name.removeprefix(FILTER_PREFIX), value)
            for name, value in params.multi_items()
            if name.startswith(FILTER_PREFIX)
        ),
        **texts,
        escalated=_yes_no_filter(params, "escalated", errors),
        rated=_yes_no_filter(params, "rated", errors),
        rating=_rating(params, errors),
        created_after=_given(params, "created_after"),
        created_before=_given(params, "created_before"),
        updated_after=_given(params, "updated_after"),
        updated_before=_given(params, "updated_before"),
        q=_text(params, "q", errors, MAX_QUERY),
        sla_breached=_yes_no_filter(params, "sla_breached", errors),
        due_within=_minutes(params, "due_within", errors),
        following=_yes_no_filter(params, "following", errors),
    )


def _minutes(params: QueryParams, name: str, errors: list[str]) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= 6):
        errors.append(current_locale().gettext("%(name)s: a number of minutes", name=name))
        return None
    return int(value)


def read_list_request(params: QueryParams) -> ListRequest:
    """The list the query string asks for, and what in it could not be understood (said
    in the language of the locale it is read in: the console reads it inside
    ``rendering_for`` its reader's locale)."""
    errors: list[str] = []
    queue = QUEUES_BY_NAME.get(params.get("queue") or "")
    if params.get("queue") and queue is None:
        errors.append(
            current_locale().gettext(
                "queue: no queue “%(queue)s”", queue=(params.get("queue") or "")[:40]
            )
        )
    filters, refusals = _filter_query(params, errors).read(queue.filters if queue else None)
    rejected: dict[str, str] = {}
    for refusal in refusals:
        errors.append(f"{refusal.field}: {refusal.message}")
        if refusal.code == "datetime":
            rejected[refusal.field] = refusal.given[:MAX_TEXT]
    sort = _choice(params, "sort", SortField, SortField.CREATED_AT, errors)
    if sort not in SORTS:
        errors.append(
            current_locale().gettext(
                "sort: one of %(sorts)s", sorts=", ".join(s.value for s in SORTS)
            )
        )
        sort = SortField.CREATED_AT
    return ListRequest(
        queue=queue,
        filters=filters,
        sort=sort,
        order=_choice(params, "order", SortOrder, SortOrder.DESC, errors),
        cursor=_text(params, "cursor", errors, 1000),
        limit=_limit(params, errors),
        errors=errors,
        rejected=rejected,
    )
