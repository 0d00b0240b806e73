"""*Send test* waits for the receiver with no writing transaction open: on SQLite one open
would hold the write lock, and every other writer with it, for up to the send timeout."""

from __future__ import annotations

import asyncio

from tests.conftest import World
from tests.notify.conftest import Answer, Receiver


async def test_other_writes_go_on_while_a_send_test_waits_for_a_slow_receiver(
    world: World, receiver: Receiver
) -> None:
    created = await world.post(
        "admin", "/api/v1/channels", json={"name": "hook", "kind": "webhook", "url": receiver.url}
    )
    assert created.status_code == 201, created.text
    path = f"/api/v1/channels/{created.json()['id']}"
    receiver.answer(Answer(500, body=b"receiver broken"))
    receiver.hold()  # the receiver keeps its answer back until released
    sending = asyncio.create_task(world.post("admin", f"{path}/test"))
    try:
        await receiver.wait_for(1)  # the test message is with the receiver now
        await world.create_ticket("alice")  # a write, while the receiver still holds on
        assert not sending.done(), "the ticket was created only after the Send test ended"
    finally:
        receiver.release()
    tested = await sending
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is False and tested.json()["status_code"] == 500
    health = (await world.get("admin", path)).json()["health"]
    assert health["consecutive_failures"] == 1
    assert "Send test" in health["last_failure_reason"]
    assert "500" in health["last_failure_reason"]
