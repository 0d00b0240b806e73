"""Admins manage accounts, projects, users and tokens over the API; nobody else can."""

from __future__ import annotations

from tests.conftest import World


async def test_me_tells_who_the_token_acts_as(world: World) -> None:
    me = (await world.get("alice", "/api/v1/me")).json()
    assert me == {
        **me,
        "username": "alice",
        "role": "customer",
        "account": "acme",
        "projects": ["p1"],
        "account_wide": False,
        "email": "alice@acme.test",
        "real_name": "Alice A",
    }


async def test_admin_creates_an_account_with_projects_and_adds_one_later(world: World) -> None:
    created = await world.post(
        "admin", "/api/v1/accounts", json={"key": "initech", "name": "Initech", "projects": ["tps"]}
    )
    assert created.status_code == 201, created.text
    assert [p["key"] for p in created.json()["projects"]] == ["tps"]
    added = await world.post("admin", "/api/v1/accounts/initech/projects", json={"key": "reports"})
    assert added.status_code == 201
    account = (await world.get("admin", "/api/v1/accounts/initech")).json()
    assert [p["key"] for p in account["projects"]] == ["reports", "tps"]
    listed = (await world.get("admin", "/api/v1/accounts")).json()
    assert [a["key"] for a in listed] == ["acme", "globex", "initech"]


async def test_duplicate_accounts_projects_users_and_emails_are_conflicts(world: World) -> None:
    assert (await world.post("admin", "/api/v1/accounts", json={"key": "acme"})).status_code == 409
    dup_project = await world.post("admin", "/api/v1/accounts/acme/projects", json={"key": "p1"})
    assert dup_project.status_code == 409
    dup_user = await world.post(
        "admin", "/api/v1/users", json={"username": "alice", "role": "agent"}
    )
    assert dup_user.status_code == 409
    dup_email = await world.post(
        "admin",
        "/api/v1/users",
        json={"username": "alice2", "role": "agent", "email": "ALICE@acme.test"},
    )
    assert dup_email.status_code == 409
    assert dup_email.json()["type"] == "/problems/conflict"


async def test_user_rules_are_enforced(world: World) -> None:
    customer_without_account = await world.post(
        "admin", "/api/v1/users", json={"username": "x", "role": "customer"}
    )
    assert customer_without_account.status_code == 422
    assert customer_without_account.json()["errors"][0]["field"] == "account"
    agent_with_account = await world.post(
        "admin", "/api/v1/users", json={"username": "y", "role": "agent", "account": "acme"}
    )
    assert agent_with_account.status_code == 422
    bad_email = await world.post(
        "admin", "/api/v1/users", json={"username": "z", "role": "agent", "email": "nope"}
    )
    assert bad_email.status_code == 422
    unknown_project = await world.post(
        "admin",
        "/api/v1/users",
        json={"username": "w", "role": "customer", "account": "acme", "projects": ["zz"]},
    )
    assert unknown_project.status_code == 422
    bad_name = await world.post("admin", "/api/v1/users", json={"username": "a b", "role": "agent"})
    assert bad_name.status_code == 422


async def test_admin_creates_a_user_and_a_token_shown_once_that_then_works(world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/users",
        json={
            "username": "dave",
            "role": "customer",
            "account": "acme",
            "email": "dave@acme.test",
            "real_name": "Dave D",
            "password": "long enough",
            "account_wide": False,
            "projects": ["p2"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["has_password"] is True
    assert created.json()["projects"] == ["p2"]
    token_answer = await world.post(
        "admin", "/api/v1/tokens", json={"username": "dave", "label": "ci"}
    )
    assert token_answer.status_code == 201
    token = token_answer.json()["token"]
    assert token.startswith(token_answer.json()["prefix"])
    world.tokens["dave"] = token
    assert (await world.get("dave", "/api/v1/me")).json()["username"] == "dave"
    listed = (await world.get("admin", "/api/v1/tokens?username=dave")).json()
    assert [t["label"] for t in listed] == ["ci"]
    assert "token" not in listed[0]


async def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    answer = (await world.post("admin", "/api/v1/tokens", json={"username": "bob"})).json()
    world.tokens["bob2"] = answer["token"]
    assert (await world.get("bob2", "/api/v1/me")).status_code == 200
    revoked = await world.request("admin", "DELETE", f"/api/v1/tokens/{answer['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    assert (await world.get("bob2", "/api/v1/me")).status_code == 401


async def test_a_disabled_user_cannot_use_their_tokens(world: World) -> None:
    disabled = await world.patch("admin", "/api/v1/users/carol", json={"is_active": False})
    assert disabled.status_code == 200
    assert disabled.json()["is_active"] is False
    assert (await world.get("carol", "/api/v1/me")).status_code == 401


async def test_admin_changes_project_membership_and_it_changes_what_the_user_sees(
    world: World,
) -> None:
    ticket = await world.create_ticket("bob", access_level="project_users", projects=["p2"])
    path = f"/api/v1/tickets/{ticket['number']}"
    assert (await world.get("carol", path)).status_code == 404
    changed = await world.patch("admin", "/api/v1/users/carol", json={"projects": ["p2"]})
    assert changed.json()["projects"] == ["p2"]
    assert (await world.get("carol", path)).status_code == 200


async def test_only_admins_reach_the_admin_endpoints(world: World) -> None:
    for who in ("agent", "owner", "acme-portal"):
        for method, path in [
            ("GET", "/api/v1/accounts"),
            ("POST", "/api/v1/accounts"),
            ("GET", "/api/v1/users"),
            ("POST", "/api/v1/users"),
            ("GET", "/api/v1/tokens"),
            ("POST", "/api/v1/tokens"),
            ("POST", "/api/v1/topics"),
        ]:
            response = await world.request(who, method, path, json={})
            assert response.status_code == 403, (who, method, path, response.text)
            assert response.json()["type"] == "/problems/forbidden"
