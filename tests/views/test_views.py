"""Saved views: an agent's own or shared by admins, their filters checked when saved, each
listing and counting what the ticket list would; customers have none."""

from __future__ import annotations

from typing import Any

import pytest

from helpwire.views import service
from tests.conftest import World

VIEWS = "/api/v1/views"


async def make_view(world: World, who: str = "agent", **spec: Any) -> dict[str, Any]:
    response = await world.post(who, VIEWS, json={"name": "v", **spec})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_view_lists_and_counts_what_the_list_would(world: World) -> None:
    urgent = [(await world.create_ticket("owner", priority="urgent"))["number"] for _ in range(3)]
    await world.create_ticket("owner", priority="low")
    view = await make_view(
        world,
        name="Urgent",
        filter={"priority": "urgent", "status": "new,open"},
        sort="number",
        order="asc",
    )
    assert view["filter"] == {"priority": "urgent", "status": "new,open"}
    assert view["count"] == {"value": 3, "exact": True}
    assert view["shared"] is False and view["owner"] == "agent"

    page = await world.get("agent", f"{VIEWS}/{view['id']}/tickets", params={"limit": 2})
    assert page.status_code == 200, page.text
    assert [t["number"] for t in page.json()["items"]] == urgent[:2]
    assert page.json()["count"] == {"value": 3, "exact": True}
    rest = await world.get(
        "agent",
        f"{VIEWS}/{view['id']}/tickets",
        params={"limit": 2, "cursor": page.json()["next_cursor"]},
    )
    assert [t["number"] for t in rest.json()["items"]] == urgent[2:]
    listed = (await world.get("agent", "/api/v1/tickets", params={"priority": "urgent"})).json()
    assert sorted(t["number"] for t in listed["items"]) == urgent

    shown = await world.get("agent", f"{VIEWS}/{view['id']}")
    assert shown.json()["count"]["value"] == 3
    changed = await world.patch(
        "agent", f"{VIEWS}/{view['id']}", json={"filter": {"priority": "low"}, "name": "Low"}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Low" and changed.json()["count"]["value"] == 1


async def test_me_means_whoever_looks(world: World) -> None:
    shared = await make_view(world, "admin", name="Mine", filter={"assignee": "me"}, shared=True)
    number = (await world.create_ticket("owner"))["number"]
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent"})
    counts = {}
    for who in ("agent", "agent2"):
        views = (await world.get(who, VIEWS)).json()
        counts[who] = next(v["count"]["value"] for v in views if v["id"] == shared["id"])
    assert counts == {"agent": 1, "agent2": 0}


async def test_own_views_are_private_and_shared_ones_admins(world: World) -> None:
    own = await make_view(world, "agent", name="Mine")
    shared = await make_view(world, "admin", name="Team", shared=True)
    admins_own = await make_view(world, "admin", name="Admin's")

    assert {v["name"] for v in (await world.get("agent", VIEWS)).json()} == {"Mine", "Team"}
    assert {v["name"] for v in (await world.get("agent2", VIEWS)).json()} == {"Team"}
    assert (await world.get("agent2", f"{VIEWS}/{own['id']}")).status_code == 404
    assert (await world.get("agent", f"{VIEWS}/{admins_own['id']}")).status_code == 404
    hidden = await world.patch("agent2", f"{VIEWS}/{own['id']}", json={"name": "Taken"})
    assert hidden.status_code == 404
    assert (await world.request("agent2", "DELETE", f"{VIEWS}/{own['id']}")).status_code == 404

    refused = await world.post("agent", VIEWS, json={"name": "Shared", "shared": True})
    assert refused.status_code == 403
    not_theirs = await world.patch("agent", f"{VIEWS}/{shared['id']}", json={"name": "X"})
    assert not_theirs.status_code == 403
    assert (await world.request("agent", "DELETE", f"{VIEWS}/{shared['id']}")).status_code == 403
    assert (await world.request("admin", "DELETE", f"{VIEWS}/{shared['id']}")).status_code == 204
    assert (await world.request("agent", "DELETE", f"{VIEWS}/{own['id']}")).status_code == 204
    assert (await world.get("agent", VIEWS)).json() == []

    twice = await world.post("admin", VIEWS, json={"name": "admin's"})
    assert twice.status_code == 409


async def test_customers_have_no_views(world: World) -> None:
    view = await make_view(world, "admin", name="Team", shared=True)
    for who in ("owner", "gus", "acme-portal"):
        assert (await world.get(who, VIEWS)).status_code == 403
        assert (await world.get(who, f"{VIEWS}/{view['id']}")).status_code == 403
        assert (await world.get(who, f"{VIEWS}/{view['id']}/tickets")).status_code == 403
        assert (await world.post(who, VIEWS, json={"name": "Mine"})).status_code == 403
    assert (await world.client.get(VIEWS)).status_code == 401


async def test_filters_are_checked_when_saved(world: World) -> None:
    for spec, field in (
        ({"filter": {"status": "nope"}}, "filter.status"),
        ({"filter": {"created_after": "yesterday"}}, "filter.created_after"),
        ({"filter": {"colour": "red"}}, "filter.colour"),
        ({"sort": "relevance"}, "sort"),
        ({"name": "  "}, "name"),
    ):
        response = await world.post("agent", VIEWS, json={"name": "v", **spec})
        assert response.status_code == 422, (spec, response.text)
        assert response.json()["errors"][0]["field"].startswith(field), response.text
    searched = await make_view(world, filter={"q": "printer"}, sort="relevance")
    assert searched["count"] == {"value": 0, "exact": True}


async def test_a_long_list_of_views_counts_its_first_ones_only(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_COUNTED_VIEWS", 2)
    for position in range(3):
        await make_view(world, name=f"v{position}", position=position)
    views = (await world.get("agent", VIEWS)).json()
    assert [v["name"] for v in views] == ["v0", "v1", "v2"]
    assert [v["count"] is not None for v in views] == [True, True, False]
    # Each view alone is always counted.
    alone = await world.get("agent", f"{VIEWS}/{views[2]['id']}")
    assert alone.json()["count"] == {"value": 0, "exact": True}


async def test_a_view_keeps_custom_field_and_following_filters(world: World) -> None:
    made = await world.post(
        "admin",
        "/api/v1/fields",
        json={"key": "plan", "name": "Plan", "kind": "select", "options": ["free", "gold", "team"]},
    )
    assert made.status_code == 201, made.text
    by_plan = {
        plan: (await world.create_ticket("owner", fields={"plan": plan}))["number"]
        for plan in ("free", "gold", "team")
    }
    for number in (by_plan["gold"], by_plan["free"]):
        followed = await world.post("agent", f"/api/v1/tickets/{number}/followers", json={})
        assert followed.status_code == 201, followed.text

    view = await make_view(
        world, filter={"fields": {"plan": ["gold", "team"]}, "following": True}, sort="number"
    )

    assert view["filter"] == {"following": True, "fields": {"plan": ["gold", "team"]}}
    assert view["count"] == {"value": 1, "exact": True}
    page = await world.get("agent", f"{VIEWS}/{view['id']}/tickets")
    assert [t["number"] for t in page.json()["items"]] == [by_plan["gold"]]
    wrong = await world.post(
        "agent", VIEWS, json={"name": "w", "filter": {"fields": {"plan": ["gold", "gone"]}}}
    )
    assert wrong.status_code == 422, wrong.text
