"""One ticket, every face: filed through one, worked through the others and the native API,
and the same state seen everywhere."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.settings import Settings
from tests.conftest import World, build_world

SELECTEL = "/selectel/tickets/v1"
F5_NS = "/api/web/namespaces/system"


def bearer(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def x_token(world: World, who: str) -> dict[str, str]:
    return {"X-Token": world.tokens[who]}


def api_token(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"APIToken {world.tokens[who]}"}


async def file_by_ucloud(world: World, subject: str) -> int:
    answer = await world.client.post(
        "/api/support/ticket",
        json={"subject": subject, "message": "BUG: via UCloud"},
        headers=bearer(world, "alice"),
    )
    assert answer.status_code == 200 and answer.json() == {}, answer.text
    return await newest_number(world)


async def file_by_cocalc(world: World, subject: str) -> int:
    answer = await world.client.post(
        "/api/v1/create_support_ticket",
        json={"email_address": "alice@acme.test", "subject": subject, "body": "via CoCalc"},
        auth=(world.tokens["alice"], ""),
    )
    assert answer.status_code == 200, answer.text
    return await newest_number(world)


async def file_by_selectel(world: World, subject: str) -> int:
    answer = await world.client.post(
        f"{SELECTEL}/tickets",
        json={"summary": subject, "comment_body": "via Selectel"},
        headers=x_token(world, "alice"),
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["number"])


async def file_by_f5(world: World, subject: str) -> int:
    answer = await world.client.post(
        f"{F5_NS}/customer_supports",
        json={"metadata": {"name": "t"}, "spec": {"subject": subject, "description": "via F5"}},
        headers=api_token(world, "alice"),
    )
    assert answer.status_code == 200, answer.text
    return int(answer.json()["metadata"]["name"])


async def newest_number(world: World) -> int:
    listed = await world.get("agent", "/api/v1/tickets", params={"limit": 1})
    return int(listed.json()["items"][0]["number"])


async def seen_on_every_face(world: World, number: int, subject: str) -> dict[str, Any]:
    """The ticket as each face shows it to alice; asserts they agree on what they share."""
    native = (await world.get("alice", f"/api/v1/tickets/{number}")).json()
    cocalc = await world.client.post(
        "/api/v1/get_support_tickets", json={}, auth=(world.tokens["alice"], "")
    )
    [cocalc_ticket] = [t for t in cocalc.json()["tickets"] if t["subject"] == subject]
    selectel = (
        await world.client.get(f"{SELECTEL}/tickets/{number}", headers=x_token(world, "alice"))
    ).json()
    f5 = (
        await world.client.get(
            f"{F5_NS}/customer_supports/{number}", headers=api_token(world, "alice")
        )
    ).json()
    assert cocalc_ticket["id"] == native["uid"]
    assert selectel["summary"] == subject == native["subject"]
    assert selectel["number"] == number
    assert cocalc_ticket["status"] == native["status"]
    f5_status = (f5.get("spec") or f5.get("object", {}).get("spec") or {}).get("status")
    return {
        "native": native["status"],
        "cocalc": cocalc_ticket["status"],
        "selectel_closed": selectel["is_closed"],
        "f5": f5_status,
    }


async def comment_by_selectel(world: World, number: int, who: str, body: str) -> None:
    answer = await world.client.post(
        f"{SELECTEL}/tickets/{number}/comments", json={"body": body}, headers=x_token(world, who)
    )
    assert answer.status_code == 200, answer.text


async def comment_by_f5(world: World, number: int, body: str) -> None:
    answer = await world.client.post(
        f"{F5_NS}/customer_support/{number}/comment",
        json={"name": str(number), "namespace": "system", "comment": body},
        headers=api_token(world, "alice"),
    )
    assert answer.status_code == 200 and answer.json()["err"] == "EOK", answer.text


async def close_by_f5(world: World, number: int) -> None:
    answer = await world.client.post(
        f"{F5_NS}/customer_support/{number}/close",
        json={"name": str(number), "namespace": "system"},
        headers=api_token(world, "alice"),
    )
    assert answer.status_code == 200 and answer.json()["err"] == "EOK", answer.text


async def close_by_selectel(world: World, number: int) -> None:
    answer = await world.client.post(
        f"{SELECTEL}/tickets/{number}/close",
        json={"score": 5, "comment": "thanks"},
        headers=x_token(world, "alice"),
    )
    assert answer.status_code == 200, answer.text


async def bodies(world: World, number: int) -> list[str]:
    items = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    return [c["body"] for c in items]


async def test_a_ucloud_ticket_is_worked_through_selectel_f5_and_the_native_api(
    world: World,
) -> None:
    number = await file_by_ucloud(world, "Filed on UCloud")
    assert (await seen_on_every_face(world, number, "Filed on UCloud"))["native"] == "new"
    await comment_by_selectel(world, number, "alice", "more detail via Selectel")
    reply = await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "ok"})
    assert reply.status_code == 201
    await comment_by_f5(world, number, "and via F5")
    states = await seen_on_every_face(world, number, "Filed on UCloud")
    assert states == {
        "native": "open",
        "cocalc": "open",
        "selectel_closed": False,
        "f5": "STATUS_OPEN",
    }
    await close_by_selectel(world, number)
    states = await seen_on_every_face(world, number, "Filed on UCloud")
    assert states == {
        "native": "closed",
        "cocalc": "closed",
        "selectel_closed": True,
        "f5": "STATUS_CLOSED",
    }
    ticket = (await world.get("agent", f"/api/v1/tickets/{number}")).json()
    assert ticket["type"] == "bug" and ticket["rating"]["score"] == 5
    assert ticket["context"]["via"] == "ucloud"
    assert await bodies(world, number) == [
        "BUG: via UCloud",
        "more detail via Selectel",
        "ok",
        "and via F5",
    ]


async def test_a_cocalc_ticket_is_worked_through_f5_and_closed_natively(world: World) -> None:
    number = await file_by_cocalc(world, "Filed on CoCalc")
    await comment_by_f5(world, number, "seen from F5")
    closed = await world.post("alice", f"/api/v1/tickets/{number}/close", json={})
    assert closed.status_code == 200
    states = await seen_on_every_face(world, number, "Filed on CoCalc")
    assert states["native"] == "closed" and states["f5"] == "STATUS_CLOSED"
    assert states["selectel_closed"] is True
    assert "seen from F5" in await bodies(world, number)


async def test_a_selectel_ticket_is_worked_through_f5_and_listed_by_cocalc(world: World) -> None:
    number = await file_by_selectel(world, "Filed on Selectel")
    await comment_by_f5(world, number, "from F5")
    await close_by_f5(world, number)
    states = await seen_on_every_face(world, number, "Filed on Selectel")
    assert states == {
        "native": "closed",
        "cocalc": "closed",
        "selectel_closed": True,
        "f5": "STATUS_CLOSED",
    }


async def test_an_f5_ticket_is_worked_through_selectel_and_the_native_api(world: World) -> None:
    number = await file_by_f5(world, "Filed on F5")
    await comment_by_selectel(world, number, "alice", "from Selectel")
    agent = await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "hi"})
    assert agent.status_code == 201
    await close_by_selectel(world, number)
    states = await seen_on_every_face(world, number, "Filed on F5")
    assert states == {
        "native": "closed",
        "cocalc": "closed",
        "selectel_closed": True,
        "f5": "STATUS_CLOSED",
    }
    assert (await world.get("agent", f"/api/v1/tickets/{number}")).json()["context"][
        "via"
    ] == "f5xc"


async def test_unknown_paths_under_a_face_answer_in_that_faces_format(world: World) -> None:
    selectel = await world.client.get(f"{SELECTEL}/nothing-here", headers=x_token(world, "alice"))
    assert selectel.status_code == 404
    assert "error" in selectel.json()
    f5 = await world.client.get(f"{F5_NS}/no_such_thing", headers=api_token(world, "alice"))
    assert f5.status_code == 404
    assert set(f5.json()) >= {"code", "message"}
    native = await world.get("alice", "/api/v1/nothing-here")
    assert native.headers["content-type"] == "application/problem+json"


async def test_f5_bodies_may_carry_a_whole_file_in_base64(settings: Settings) -> None:
    # A small request limit, and files of 256 KiB: a whole file, base64-encoded in F5's
    # JSON, must still get through on the F5 paths, and only there.
    app = create_app(settings.model_copy(update={"max_request_bytes": 64 * 1024}))
    data = bytes(range(256)) * 1000  # 256,000 bytes; 341,336 encoded
    encoded = base64.b64encode(data).decode()
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            world = await build_world(c, app.state.database)
            answer = await c.post(
                f"{F5_NS}/customer_supports",
                json={
                    "metadata": {"name": "t"},
                    "spec": {
                        "subject": "big attachment",
                        "description": "see file",
                        "comments": [
                            {
                                "plain_text": "dump attached",
                                "attachments": [{"filename": "dump.bin", "attachment": encoded}],
                            }
                        ],
                    },
                },
                headers=api_token(world, "alice"),
            )
            assert answer.status_code == 200, answer.text[:500]
            native = await world.post(
                "alice", "/api/v1/tickets", json={"subject": "s", "body": "x" * 70_000}
            )
            assert native.status_code == 413
