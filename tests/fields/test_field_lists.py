"""Ticket lists filtered and sorted by custom fields: ``field.<key>=value`` (any of several
values, ranges for numbers and dates) and ``sort=field.<key>``, paged by cursor."""

from __future__ import annotations

from typing import Any

import pytest

from helpwire.fields import filters
from tests.conftest import World
from tests.fields.test_fields import TICKETS, a_desk, problem_at


@pytest.fixture(params=["few", "many"])
def matches(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a filter is planned: by its matches (few), or checked ticket by ticket
    and counted from its own rows (many: every filter matching more than one ticket)."""
    if request.param == "many":
        monkeypatch.setattr(filters, "FEW_MATCHES", 1)
    return str(request.param)


async def numbers(world: World, who: str, params: Any) -> list[int]:
    response = await world.get(who, TICKETS, params=params)
    assert response.status_code == 200, response.text
    return [t["number"] for t in response.json()["items"]]


async def some_tickets(world: World) -> dict[str, int]:
    await a_desk(world)
    made = {}
    for name, values in {
        "small": {"plan": "free", "seats": 2, "renewal": "2027-01-15", "modules": ["mail"]},
        "medium": {"plan": "pro", "seats": 20, "renewal": "2027-06-01", "trial": True},
        "large": {"plan": "enterprise", "seats": 500, "modules": ["mail", "voice"]},
        "bare": {},
        "other": {"plan": "pro", "seats": 20, "trial": False},
    }.items():
        made[name] = (await world.create_ticket("owner", fields=values))["number"]
    await world.patch(
        "agent", f"{TICKETS}/{made['large']}", json={"fields": {"churn-risk": "high"}}
    )
    return made


async def test_lists_filter_by_a_value_any_of_several_and_ranges(
    world: World, matches: str
) -> None:
    t = await some_tickets(world)
    assert await numbers(world, "agent", {"field.plan": "pro"}) == [t["other"], t["medium"]]
    both = [("field.plan", "free"), ("field.plan", "enterprise")]
    assert await numbers(world, "agent", both) == [t["large"], t["small"]]
    assert await numbers(world, "agent", {"field.seats": "10..100"}) == [t["other"], t["medium"]]
    assert await numbers(world, "agent", {"field.seats": "20.."}) == [
        t["other"],
        t["large"],
        t["medium"],
    ]
    assert await numbers(world, "agent", {"field.seats": "..2"}) == [t["small"]]
    assert await numbers(world, "agent", {"field.renewal": "2027-02-01..2027-12-31"}) == [
        t["medium"]
    ]
    assert await numbers(world, "agent", {"field.modules": "mail"}) == [t["large"], t["small"]]
    assert await numbers(world, "agent", {"field.trial": "false"}) == [t["other"]]
    assert await numbers(world, "agent", {"field.churn-risk": "high"}) == [t["large"]]
    # Fields combine with each other and with the list's own filters.
    combined = {"field.plan": "pro", "field.trial": "true", "status": "new"}
    assert await numbers(world, "agent", combined) == [t["medium"]]
    for params, count in [
        ({"field.plan": "pro"}, 2),
        ({"field.plan": "pro", "field.seats": "20"}, 2),
        ({"field.plan": "pro", "field.trial": "true"}, 1),
        ({"field.modules": "mail"}, 2),
        ([("field.modules", "mail"), ("field.modules", "voice")], 2),  # counted once each
    ]:
        counted = (await world.get("agent", TICKETS, params=params)).json()
        assert counted["count"] == {"value": count, "exact": True}, params


async def test_a_filter_the_field_cannot_take_is_refused(world: World) -> None:
    await some_tickets(world)
    for params, field, code in [
        ({"field.plan": "gold"}, "field.plan", "unknown_option"),
        ({"field.seats": "many"}, "field.seats", "wrong_type"),
        ({"field.seats": ".."}, "field.seats", "invalid"),
        ({"field.renewal": "soon.."}, "field.renewal", "wrong_type"),
        ({"field.nope": "x"}, "field.nope", "unknown_field"),
    ]:
        problem_at(await world.get("agent", TICKETS, params=params), 422, field, code)
    # Customers cannot filter, or learn anything, by a field they do not see.
    hidden = await world.get("owner", TICKETS, params={"field.churn-risk": "high"})
    problem_at(hidden, 422, "field.churn-risk", "unknown_field")
    problem_at(
        await world.get("owner", TICKETS, params={"sort": "field.churn-risk"}),
        422,
        "sort",
        "unknown_field",
    )


async def test_lists_sort_by_a_field_and_page_by_cursor(world: World, matches: str) -> None:
    t = await some_tickets(world)
    by_seats = await numbers(world, "agent", {"sort": "field.seats", "order": "asc"})
    assert by_seats == [t["small"], t["medium"], t["other"], t["large"]]  # ties: by ticket
    assert await numbers(world, "agent", {"sort": "field.seats"}) == by_seats[::-1]
    by_plan = await numbers(world, "owner", {"sort": "field.plan", "order": "asc"})
    assert by_plan == [t["large"], t["small"], t["medium"], t["other"]]  # by text
    by_seats_of_pro = {"sort": "field.seats", "order": "asc", "field.plan": "pro"}
    assert await numbers(world, "agent", by_seats_of_pro) == [t["medium"], t["other"]]
    by_date = await numbers(world, "agent", {"sort": "field.renewal", "order": "asc"})
    assert by_date == [t["small"], t["medium"]]

    pages: list[int] = []
    params: dict[str, Any] = {"sort": "field.seats", "order": "asc", "limit": 1}
    while True:
        page = (await world.get("agent", TICKETS, params=params)).json()
        assert page["count"] == {"value": 4, "exact": True}
        pages += [item["number"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert pages == by_seats

    first = (await world.get("agent", TICKETS, params={"sort": "field.seats", "limit": 1})).json()
    other_field = {"sort": "field.renewal", "limit": 1, "cursor": first["next_cursor"]}
    problem_at(await world.get("agent", TICKETS, params=other_field), 422, "cursor", "invalid")
    multi = await world.get("agent", TICKETS, params={"sort": "field.modules"})
    problem_at(multi, 422, "sort", "invalid")
    assert (await world.get("agent", TICKETS, params={"sort": "field."})).status_code == 422
