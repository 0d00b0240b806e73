"""The one reading of list filters that the API, the console and the Selectel face share."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from helpwire.problems import ValidationProblem
from helpwire.tickets.list_query import TicketListQuery
from helpwire.tickets.listing import TicketFilters
from helpwire.tickets.models import Priority, Status


def test_words_are_split_on_commas_and_kept_once_in_order() -> None:
    query = TicketListQuery(status=("open, new", "open", ""), priority=("high",))
    filters = query.filters()
    assert filters.statuses == (Status.OPEN, Status.NEW)
    assert filters.priorities == (Priority.HIGH,)


def test_every_unreadable_value_is_refused_and_left_out() -> None:
    query = TicketListQuery(status=("open,nope",), created_after="yesterday")
    filters, refusals = query.read()
    assert filters.statuses == (Status.OPEN,)
    assert filters.created_after is None
    assert [(r.field, r.code, r.given) for r in refusals] == [
        ("status", "enum", "nope"),
        ("created_after", "datetime", "yesterday"),
    ]


def test_the_strict_reading_refuses_the_first_unreadable_value() -> None:
    with pytest.raises(ValidationProblem) as refused:
        TicketListQuery(type=("bug",), created_before="", access_level=("secret",)).filters()
    assert refused.value.errors[0]["field"] == "access_level"


def test_given_filters_replace_the_base_and_the_rest_is_kept() -> None:
    base = TicketFilters(statuses=(Status.NEW,), assignee="none")
    filters, refusals = TicketListQuery(
        status=("pending",), created_after="2026-01-31", tag="vpn"
    ).read(base)
    assert refusals == []
    assert filters == TicketFilters(
        statuses=(Status.PENDING,),
        assignee="none",
        tag="vpn",
        created_after=datetime(2026, 1, 31, tzinfo=UTC),
    )
