"""Which projects a ticket may name, on the native API (both engines): a customer without
account-wide access only projects they are a member of, an account-wide customer any
project of their account, support any project of the ticket's account. Filing and changing
a ticket follow the same rule with the same refusal (a 422 on ``projects``, like an unknown
project); the portal and the faces have tests of their own (tests/web/test_portal.py,
tests/faces/test_project_rule.py).

The world: acme has p1 and p2; owner is account-wide, alice a member of p1, bob of p2,
carol of none; globex has g1; acme-portal is acme's service token.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import World

TICKETS = "/api/v1/tickets"


def assert_not_a_member(response: httpx.Response, *keys: str) -> None:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["type"] == "/problems/validation-error"
    [error] = problem["errors"]
    assert (error["field"], error["code"]) == ("projects", "not_a_member")
    assert error["message"] == "you may name only projects you are a member of: not " + ", ".join(
        keys
    )


async def file(world: World, who: str, **fields: Any) -> httpx.Response:
    body = {"subject": "Deploy fails", "body": "Since noon.", **fields}
    return await world.post(who, TICKETS, json=body)


async def test_a_customer_files_for_their_own_projects_only(world: World) -> None:
    own = await file(world, "alice", access_level="project_users", projects=["p1"])
    assert own.status_code == 201, own.text
    assert own.json()["projects"] == ["p1"]

    before = await world.row_counts()
    assert_not_a_member(await file(world, "alice", projects=["p2"]), "p2")
    assert_not_a_member(await file(world, "alice", projects=["p1", "p2"]), "p2")
    assert_not_a_member(await file(world, "carol", projects=["p2", "p1"]), "p2", "p1")
    assert await world.row_counts() == before


async def test_an_unknown_project_is_refused_before_membership_is_asked(world: World) -> None:
    # g1 is globex's: for alice it does not exist, whatever her memberships.
    response = await file(world, "alice", projects=["g1", "p2"])
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["field"] == "projects" and "unknown project(s) g1" in error["message"]


async def test_account_wide_customers_and_support_name_any_project_of_the_account(
    world: World,
) -> None:
    by_owner = await file(world, "owner", access_level="project_users", projects=["p1", "p2"])
    assert by_owner.status_code == 201, by_owner.text
    assert by_owner.json()["projects"] == ["p1", "p2"]

    for_alice = await file(
        world, "agent", requester="alice", access_level="project_users", projects=["p2"]
    )
    assert for_alice.status_code == 201, for_alice.text
    assert for_alice.json()["projects"] == ["p2"]
    # Support names projects of the requester's account, not of another.
    elsewhere = await file(world, "agent", requester="alice", projects=["g1"])
    assert elsewhere.status_code == 422, elsewhere.text


async def test_a_service_token_is_held_to_the_customer_it_speaks_for(world: World) -> None:
    as_itself = await file(world, "acme-portal", projects=["p1"])  # account-wide as itself
    assert as_itself.status_code == 201, as_itself.text
    for_bob = await world.post(
        "acme-portal",
        TICKETS,
        json={"subject": "Deploy fails", "body": "Since noon.", "projects": ["p1"]},
        headers={"On-Behalf-Of": "bob"},
    )
    assert_not_a_member(for_bob, "p1")


async def test_changing_projects_follows_the_same_rule(world: World) -> None:
    number = (await file(world, "alice", projects=["p1"])).json()["number"]
    path = f"{TICKETS}/{number}"
    before = await world.row_counts()

    assert_not_a_member(await world.patch("alice", path, json={"projects": ["p2"]}), "p2")
    assert await world.row_counts() == before
    assert (await world.get("agent", path)).json()["projects"] == ["p1"]

    for who, projects in (("owner", ["p2"]), ("agent", ["p1", "p2"])):
        changed = await world.patch(who, path, json={"projects": projects})
        assert changed.status_code == 200, changed.text
        assert changed.json()["projects"] == projects
