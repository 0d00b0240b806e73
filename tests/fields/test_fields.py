"""Custom fields: admins define them, every side reads what it may, tickets carry typed
values checked on every way in, and every change of a value is in the timeline."""

from __future__ import annotations

from typing import Any

from helpwire.db.session import Database
from helpwire.tickets.models import Event
from helpwire.web.console_timeline import describe
from tests.conftest import World
from tests.tickets.test_list_queries import answer_from_the_orm

FIELDS = "/api/v1/fields"
TICKETS = "/api/v1/tickets"


async def define(world: World, key: str, kind: str, **more: Any) -> dict[str, Any]:
    response = await world.post(
        "admin",
        FIELDS,
        json={"key": key, "name": key.replace("-", " ").title(), "kind": kind, **more},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def a_desk(world: World) -> None:
    """The fields most tests use: one of each kind, one staff-only, one required for billing."""
    await define(world, "plan", "select", options=["free", "pro", "enterprise"])
    await define(world, "seats", "number")
    await define(world, "renewal", "date")
    await define(world, "modules", "multi_select", options=["mail", "chat", "voice"])
    await define(world, "trial", "checkbox")
    await define(world, "order-ref", "text", required_topics=["billing"])
    await define(world, "churn-risk", "select", options=["low", "high"], visible_to_customers=False)


def problem_at(response: Any, status: int, field: str, code: str) -> None:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and e["code"] == code for e in errors), errors


async def test_admins_define_fields_staff_read_all_customers_read_theirs(world: World) -> None:
    await a_desk(world)
    made = await world.get("admin", f"{FIELDS}/order-ref")
    assert made.json()["required_topics"] == ["billing"]
    assert made.json()["kind"] == "text" and made.json()["is_active"] is True

    staff = [f["key"] for f in (await world.get("agent", FIELDS)).json()]
    assert "churn-risk" in staff and len(staff) == 7
    customer = [f["key"] for f in (await world.get("owner", FIELDS)).json()]
    assert "churn-risk" not in customer and len(customer) == 6
    assert (await world.get("owner", f"{FIELDS}/churn-risk")).status_code == 404
    assert (await world.get("owner", f"{FIELDS}/plan")).json()["options"] == [
        "free",
        "pro",
        "enterprise",
    ]

    refused = await world.post("agent", FIELDS, json={"key": "x", "name": "X", "kind": "text"})
    assert refused.status_code == 403
    assert (await world.patch("owner", f"{FIELDS}/plan", json={"name": "P"})).status_code == 403
    twice = await world.post("admin", FIELDS, json={"key": "plan", "name": "P", "kind": "text"})
    assert twice.status_code == 409
    no_options = await world.post("admin", FIELDS, json={"key": "s", "name": "S", "kind": "select"})
    problem_at(no_options, 422, "options", "invalid")
    bad_topic = await world.post(
        "admin",
        FIELDS,
        json={"key": "t", "name": "T", "kind": "text", "required_topics": ["nope"]},
    )
    problem_at(bad_topic, 422, "required_topics[0]", "unknown_topic")
    bad_kind = await world.post("admin", FIELDS, json={"key": "k", "name": "K", "kind": "colour"})
    assert bad_kind.status_code == 422


async def test_a_ticket_carries_typed_values_and_customers_see_only_theirs(world: World) -> None:
    await a_desk(world)
    values = {
        "plan": "pro",
        "seats": 25,
        "renewal": "2027-03-31",
        "modules": ["voice", "mail"],
        "trial": False,
    }
    ticket = await world.create_ticket("owner", fields=values)
    assert ticket["fields"] == {**values, "modules": ["mail", "voice"]}
    number = ticket["number"]

    marked = await world.patch(
        "agent", f"{TICKETS}/{number}", json={"fields": {"churn-risk": "high", "seats": 30.5}}
    )
    assert marked.status_code == 200, marked.text
    assert marked.json()["fields"]["churn-risk"] == "high"
    assert marked.json()["fields"]["seats"] == 30.5

    as_customer = (await world.get("owner", f"{TICKETS}/{number}")).json()
    assert "churn-risk" not in as_customer["fields"]
    assert as_customer["fields"]["seats"] == 30.5
    as_staff = (await world.get("agent", f"{TICKETS}/{number}")).json()
    assert as_staff["fields"]["churn-risk"] == "high"
    listed = (await world.get("owner", TICKETS)).json()["items"]
    assert listed[0]["fields"] == as_customer["fields"]
    listed = (await world.get("agent", TICKETS)).json()["items"]
    assert listed[0]["fields"] == as_staff["fields"]

    cleared = await world.patch("owner", f"{TICKETS}/{number}", json={"fields": {"modules": None}})
    assert cleared.status_code == 200, cleared.text
    assert "modules" not in cleared.json()["fields"]


async def test_every_change_of_a_value_is_in_the_timeline(world: World) -> None:
    await a_desk(world)
    number = (await world.create_ticket("owner", fields={"plan": "free"}))["number"]
    await world.patch(
        "agent", f"{TICKETS}/{number}", json={"fields": {"plan": "pro", "churn-risk": "low"}}
    )

    staff_events = (await world.get("agent", f"{TICKETS}/{number}/events")).json()["items"]
    assert staff_events[0]["type"] == "ticket.created"
    assert staff_events[0]["data"]["fields"] == {"plan": "free"}
    changes = [e["data"]["changes"] for e in staff_events if e["type"] == "ticket.updated"]
    assert {"fields.plan": {"before": "free", "after": "pro"}} in changes
    assert {"fields.churn-risk": {"before": None, "after": "low"}} in changes
    internal = [e for e in staff_events if e["internal"]]
    assert [e["data"]["changes"] for e in internal] == [
        {"fields.churn-risk": {"before": None, "after": "low"}}
    ]
    customer_events = (await world.get("owner", f"{TICKETS}/{number}/events")).json()["items"]
    assert "churn-risk" not in str(customer_events)
    assert any("fields.plan" in e["data"].get("changes", {}) for e in customer_events)

    # The same value again changes nothing and records nothing.
    again = await world.patch("agent", f"{TICKETS}/{number}", json={"fields": {"plan": "pro"}})
    assert again.status_code == 200
    after = (await world.get("agent", f"{TICKETS}/{number}/events")).json()["items"]
    assert len(after) == len(staff_events)


async def test_wrong_values_are_refused_with_the_field_named(world: World) -> None:
    await a_desk(world)
    before = await world.row_counts()
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"seats": "many"}, 422, "fields.seats", "wrong_type"),
        ({"seats": True}, 422, "fields.seats", "wrong_type"),
        ({"renewal": "31/03/2027"}, 422, "fields.renewal", "wrong_type"),
        ({"renewal": "2027-02-30"}, 422, "fields.renewal", "wrong_type"),
        ({"trial": "yes"}, 422, "fields.trial", "wrong_type"),
        ({"plan": "gold"}, 422, "fields.plan", "unknown_option"),
        ({"modules": ["mail", "fax"]}, 422, "fields.modules[1]", "unknown_option"),
        ({"modules": "mail"}, 422, "fields.modules", "wrong_type"),
        ({"no-such-field": "x"}, 422, "fields.no-such-field", "unknown_field"),
        ({"churn-risk": "high"}, 403, "fields.churn-risk", "staff_only"),
    ]
    for values, status, field, code in cases:
        response = await world.post(
            "owner", TICKETS, json={"subject": "S", "body": "B", "fields": values}
        )
        problem_at(response, status, field, code)
    assert await world.row_counts() == before  # nothing of a refused ticket is kept

    number = (await world.create_ticket("owner"))["number"]
    refused = await world.patch(
        "owner", f"{TICKETS}/{number}", json={"fields": {"churn-risk": "low"}}
    )
    problem_at(refused, 403, "fields.churn-risk", "staff_only")
    huge = await world.patch("agent", f"{TICKETS}/{number}", json={"fields": {"seats": 1e300}})
    problem_at(huge, 422, "fields.seats", "invalid")


async def test_a_field_a_topic_requires_must_be_given_for_that_topic(world: World) -> None:
    await a_desk(world)
    missing = await world.post(
        "owner", TICKETS, json={"subject": "S", "body": "B", "topic": "billing"}
    )
    problem_at(missing, 422, "fields.order-ref", "required")
    other_topic = await world.create_ticket("owner", topic="network")
    assert other_topic["fields"] == {}
    given = await world.create_ticket("owner", topic="billing", fields={"order-ref": "INV-7"})
    assert given["fields"] == {"order-ref": "INV-7"}

    number = given["number"]
    cleared = await world.patch(
        "owner", f"{TICKETS}/{number}", json={"fields": {"order-ref": None}}
    )
    problem_at(cleared, 422, "fields.order-ref", "required")
    moved = await world.patch(
        "agent", f"{TICKETS}/{other_topic['number']}", json={"topic": "billing"}
    )
    problem_at(moved, 422, "fields.order-ref", "required")
    moved = await world.patch(
        "agent",
        f"{TICKETS}/{other_topic['number']}",
        json={"topic": "billing", "fields": {"order-ref": "INV-8"}},
    )
    assert moved.status_code == 200, moved.text

    # Required everywhere, but staff only: never required of customers, who cannot set it.
    await define(world, "account-manager", "text", required=True, visible_to_customers=False)
    assert (await world.create_ticket("owner"))["fields"] == {}
    by_staff = await world.post(
        "agent", TICKETS, json={"subject": "S", "body": "B", "requester": "owner"}
    )
    problem_at(by_staff, 422, "fields.account-manager", "required")


async def test_an_inactive_field_takes_no_values_and_keeps_its_old_ones(world: World) -> None:
    await a_desk(world)
    number = (await world.create_ticket("owner", fields={"seats": 3}))["number"]
    off = await world.patch("admin", f"{FIELDS}/seats", json={"is_active": False})
    assert off.status_code == 200 and off.json()["is_active"] is False

    refused = await world.patch("agent", f"{TICKETS}/{number}", json={"fields": {"seats": 4}})
    problem_at(refused, 422, "fields.seats", "inactive_field")
    assert (await world.get("agent", f"{TICKETS}/{number}")).json()["fields"] == {"seats": 3}
    assert "seats" not in [f["key"] for f in (await world.get("agent", FIELDS)).json()]
    every = await world.get("agent", FIELDS, params={"include_inactive": "true"})
    assert "seats" in [f["key"] for f in every.json()]
    assert (await world.get("owner", f"{FIELDS}/seats")).status_code == 404


async def test_an_option_in_use_is_not_removed(world: World) -> None:
    await a_desk(world)
    await world.create_ticket("owner", fields={"plan": "pro"})
    refused = await world.patch("admin", f"{FIELDS}/plan", json={"options": ["free", "enterprise"]})
    assert refused.status_code == 409
    added = await world.patch(
        "admin", f"{FIELDS}/plan", json={"options": ["free", "pro", "enterprise", "edu"]}
    )
    assert added.status_code == 200 and added.json()["options"][-1] == "edu"


async def test_attributes_named_like_a_field_are_its_value(world: World) -> None:
    """How faces feed fields: their attributes, top-level or nested along the key's dots."""
    await a_desk(world)
    await define(world, "selectel.notice_id", "number")
    ticket = await world.create_ticket(
        "owner", attributes={"plan": "enterprise", "selectel": {"notice_id": 42}}
    )
    assert ticket["fields"] == {"plan": "enterprise", "selectel.notice_id": 42}
    assert ticket["attributes"]["plan"] == "enterprise"  # kept as sent, too
    wrong = await world.post(
        "owner", TICKETS, json={"subject": "S", "body": "B", "attributes": {"plan": "gold"}}
    )
    problem_at(wrong, 422, "attributes.plan", "unknown_option")
    twice = await world.post(
        "owner",
        TICKETS,
        json={
            "subject": "S",
            "body": "B",
            "attributes": {"plan": "pro"},
            "fields": {"plan": "free"},
        },
    )
    problem_at(twice, 422, "attributes.plan", "conflict")


async def test_a_list_a_get_and_a_change_answer_the_same_values(
    world: World, database: Database
) -> None:
    """Lists and GETs gather the values into the ticket's one statement; a change answers
    from the ORM object: the three agree, for staff and for customers."""
    await a_desk(world)
    values = {"plan": "pro", "seats": 2.5, "renewal": "2027-01-02", "modules": ["chat", "mail"]}
    number = (await world.create_ticket("owner", fields={**values, "trial": True}))["number"]
    changed = await world.patch(
        "agent", f"{TICKETS}/{number}", json={"fields": {"churn-risk": "low", "seats": 7}}
    )
    for who in ("agent", "owner"):
        (item,) = (await world.get(who, TICKETS)).json()["items"]
        assert item == (await world.get(who, f"{TICKETS}/{number}")).json()
        assert item == await answer_from_the_orm(database, who, number)
    assert changed.json()["fields"] == {
        **values,
        "seats": 7,
        "trial": True,
        "modules": ["mail", "chat"],
        "churn-risk": "low",
    }


def test_the_console_timeline_says_what_happened_to_a_field() -> None:
    filed = Event(type="ticket.created", data={"via": "web", "fields": {"plan": "pro"}})
    assert describe(filed) == "filed the ticket (via web) with plan: pro"
    changes = {
        "fields.plan": {"before": "free", "after": "pro"},
        "fields.trial": {"before": None, "after": True},
        "fields.modules": {"before": ["mail", "chat"], "after": None},
    }
    assert describe(Event(type="ticket.updated", data={"changes": changes})) == (
        "set the field “plan” from free to pro; set the field “trial” from nothing to yes; "
        "cleared the field “modules” (was mail, chat)"
    )
