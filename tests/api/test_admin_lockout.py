"""No one can lock every admin out: an admin may not disable or demote themselves, and the
last active admin may not be disabled or demoted by anyone (a 409 problem)."""

from __future__ import annotations

from typing import Any

from tests.conftest import World

CONFLICT = "/problems/conflict"


async def _user(world: World, username: str) -> dict[str, Any]:
    shown: dict[str, Any] = (await world.get("admin", f"/api/v1/users/{username}")).json()
    return shown


async def test_an_admin_cannot_disable_themselves(world: World) -> None:
    before = await world.row_counts()
    response = await world.patch("admin", "/api/v1/users/admin", json={"is_active": False})
    assert response.status_code == 409, response.text
    assert response.json()["type"] == CONFLICT
    assert "your own" in response.json()["detail"]
    assert (await _user(world, "admin"))["is_active"] is True
    assert await world.row_counts() == before


async def test_an_admin_left_alone_cannot_disable_themselves(world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/users",
        json={"username": "root2", "role": "admin", "email": "root2@helpwire.test"},
    )
    assert created.status_code == 201, created.text
    token = await world.post("admin", "/api/v1/tokens", json={"username": "root2"})
    assert token.status_code == 201, token.text
    world.tokens["root2"] = token.json()["token"]

    first = await world.patch("root2", "/api/v1/users/admin", json={"is_active": False})
    assert first.status_code == 200, first.text
    last = await world.patch("root2", "/api/v1/users/root2", json={"is_active": False})
    assert last.status_code == 409
    assert (await world.get("root2", "/api/v1/users/root2")).json()["is_active"] is True


async def test_disabling_another_admin_while_one_stays_is_fine(world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/users",
        json={"username": "root2", "role": "admin", "email": "root2@helpwire.test"},
    )
    assert created.status_code == 201, created.text
    response = await world.patch("admin", "/api/v1/users/root2", json={"is_active": False})
    assert response.status_code == 200, response.text
    assert (await _user(world, "root2"))["is_active"] is False
