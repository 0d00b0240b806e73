"""What channels must not give away: webhook URLs in the log, staff-only event details to a
customers channel; and a failed *Send test* shows in the channel's health."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from helpwire.notify.relay import Relay
from tests.conftest import World
from tests.notify.conftest import Answer, Receiver

# A word no log line of helpwire's own says (unlike "SECRET", as in HELPWIRE_SECRET_KEY).
URL_SECRET = "Zq7wVxKp"
SLACK_PATH = f"/services/T0{URL_SECRET}/B0{URL_SECRET}/xoxtoken{URL_SECRET}"


async def make_channel(world: World, **spec: Any) -> dict[str, Any]:
    response = await world.post("admin", "/api/v1/channels", json=spec)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_webhook_urls_stay_out_of_the_log(
    world: World,
    receiver: Receiver,
    make_relay: Callable[..., Relay],
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = receiver.url.removesuffix("/hook")
    channel = await make_channel(world, name="chat", kind="slack", url=base + SLACK_PATH)
    await world.create_ticket("alice")
    receiver.answer(Answer(500, body=b"broken"))
    caplog.set_level(logging.DEBUG)
    relay = make_relay()
    assert await relay.run_once() == 1  # a failure, which helpwire logs
    tested = await world.post("admin", f"/api/v1/channels/{channel['id']}/test")
    assert tested.json()["ok"] is True
    await receiver.wait_for(2)
    assert caplog.records, "the delivery logged nothing at all"
    assert URL_SECRET not in caplog.text
    assert any("127.0.0.1" in r.getMessage() + str(vars(r)) for r in caplog.records)


async def test_a_customers_channel_gets_no_staff_only_details(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    await make_channel(
        world, name="portal", kind="webhook", url=f"{receiver.url}?c=c", audience="customers"
    )
    await make_channel(world, name="chat", kind="slack", url=f"{receiver.url}?c=chat")
    await make_channel(
        world, name="portal chat", kind="slack", url=f"{receiver.url}?c=cchat", audience="customers"
    )
    ticket = await world.create_ticket("alice", attributes={"crm_score": "SECRETSCORE"})
    changed = await world.patch(
        "agent",
        f"/api/v1/tickets/{ticket['number']}",
        json={"attributes": {"crm_score": "SECRETSCORE2"}, "tags": ["billing"]},
    )
    assert changed.status_code == 200, changed.text
    await make_relay().run_once()
    requests = await receiver.wait_for(6)
    customers = [r for r in requests if r.path.endswith("c=c")]
    assert [r.json()["type"] for r in customers] == ["ticket.created", "ticket.updated"]
    created, updated = (r.json()["data"]["event"]["details"] for r in customers)
    assert "via" not in created and "requester" in created
    assert updated["changes"]["tags"]["after"] == ["billing"]
    assert "attributes" not in updated["changes"]
    for request in requests:
        if request.path.endswith(("c=c", "c=cchat")):
            assert b"SECRETSCORE" not in request.body, request.body
    staff = [r for r in requests if r.path.endswith("c=chat")]
    assert any(b"SECRETSCORE2" in r.body for r in staff)  # staff still see them


async def test_a_failed_send_test_shows_in_the_channels_health(
    world: World, receiver: Receiver
) -> None:
    channel = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    path = f"/api/v1/channels/{channel['id']}"
    receiver.answer(Answer(500, body=b"receiver broken"))
    failed = await world.post("admin", f"{path}/test")
    assert failed.json()["ok"] is False
    health = (await world.get("admin", path)).json()["health"]
    assert health["consecutive_failures"] == 1
    assert health["last_failure_at"] is not None
    assert "500" in health["last_failure_reason"] and "test" in health["last_failure_reason"]
    passed = await world.post("admin", f"{path}/test")
    assert passed.json()["ok"] is True
    health = (await world.get("admin", path)).json()["health"]
    assert health["consecutive_failures"] == 0 and health["last_success_at"] is not None
