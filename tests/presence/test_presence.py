"""Presence: staff on a ticket's page beat a heartbeat and see who else is there, viewing
or replying; a heartbeat counts for PRESENCE_LIFETIME (the app's clock decides, so the
tests move it instead of waiting); customers have no part in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI

from helpwire.presence.service import PRESENCE_LIFETIME, forget_expired
from tests.conftest import World

START = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def set_clock(app: FastAPI) -> Clock:
    clock = Clock(START)
    app.state.clock = clock
    return clock


def url(number: int) -> str:
    return f"/api/v1/tickets/{number}/presence"


async def beat(world: World, who: str, number: int, state: str = "viewing") -> dict[str, Any]:
    response = await world.request(who, "PUT", url(number), json={"state": state})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def present(body: dict[str, Any]) -> dict[str, str]:
    return {p["username"]: p["state"] for p in body["present"]}


async def test_staff_see_who_else_views_or_replies(world: World, app: FastAPI) -> None:
    set_clock(app)
    number = (await world.create_ticket("owner"))["number"]

    first = await beat(world, "agent", number)
    assert first["present"] == [] and first["ticket"] == number
    assert first["expires_after_seconds"] == PRESENCE_LIFETIME.total_seconds()

    second = await beat(world, "agent2", number, "replying")
    assert present(second) == {"agent": "viewing"}
    assert second["present"][0]["seen_at"] == "2026-12-05T12:00:00Z"

    read = await world.get("agent", url(number))
    assert read.status_code == 200
    assert present(read.json()) == {"agent2": "replying"}
    # Listed by name, the caller never among them.
    assert present(await beat(world, "admin", number)) == {"agent": "viewing", "agent2": "replying"}


async def test_a_heartbeat_counts_only_for_a_while(world: World, app: FastAPI) -> None:
    clock = set_clock(app)
    number = (await world.create_ticket("owner"))["number"]
    await beat(world, "agent2", number, "replying")

    clock.now = START + PRESENCE_LIFETIME
    assert present((await world.get("agent", url(number))).json()) == {"agent2": "replying"}
    clock.now = START + PRESENCE_LIFETIME + timedelta(seconds=1)
    assert present((await world.get("agent", url(number))).json()) == {}

    # A new beat brings them back; leaving takes them off at once.
    await beat(world, "agent2", number, "viewing")
    assert present((await world.get("agent", url(number))).json()) == {"agent2": "viewing"}
    left = await world.request("agent2", "DELETE", url(number))
    assert left.status_code == 204
    assert present((await world.get("agent", url(number))).json()) == {}


async def test_the_answer_names_the_newest_comment(world: World, app: FastAPI) -> None:
    set_clock(app)
    number = (await world.create_ticket("owner"))["number"]
    first = (await world.get("agent", url(number))).json()["newest_comment"]
    assert first["username"] == "owner" and first["internal"] is False

    note = await world.post(
        "agent2", f"/api/v1/tickets/{number}/comments", json={"body": "Looking", "internal": True}
    )
    assert note.status_code == 201, note.text
    newest = (await beat(world, "agent", number))["newest_comment"]
    assert newest["id"] == note.json()["id"] and newest["id"] > first["id"]
    assert newest["username"] == "agent2" and newest["internal"] is True


async def test_customers_have_no_presence_and_bad_input_is_refused(world: World) -> None:
    number = (await world.create_ticket("owner"))["number"]
    for method in ("GET", "PUT", "DELETE"):
        refused = await world.request("owner", method, url(number), json={"state": "viewing"})
        assert refused.status_code == 403, (method, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    anonymous = await world.client.get(url(number))
    assert anonymous.status_code == 401

    missing = await world.request("agent", "PUT", url(999999), json={"state": "viewing"})
    assert missing.status_code == 404
    wrong = await world.request("agent", "PUT", url(number), json={"state": "typing"})
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "state"
    extra = await world.request("agent", "PUT", url(number), json={"state": "viewing", "x": 1})
    assert extra.status_code == 422


async def test_housekeeping_forgets_only_expired_presence(world: World, app: FastAPI) -> None:
    clock = set_clock(app)
    first, second = [(await world.create_ticket("owner"))["number"] for _ in range(2)]
    await beat(world, "agent", first)  # at START
    clock.now = START + timedelta(seconds=20)
    await beat(world, "agent2", second)  # at START + 20 s

    later = START + PRESENCE_LIFETIME + timedelta(seconds=1)
    async with world.database.writing() as session:
        assert await forget_expired(session, now=later) == 1  # agent's beat only
    clock.now = later
    assert present((await world.get("admin", url(second))).json()) == {"agent2": "viewing"}

    async with world.database.writing() as session:
        assert await forget_expired(session, now=later + timedelta(seconds=20)) == 1
        assert await forget_expired(session, now=later + timedelta(seconds=20)) == 0
