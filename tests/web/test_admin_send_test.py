"""The admin page's *Send test* waits for the receiver with no writing transaction open:
on SQLite one open would hold the write lock, and every other writer with it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests.conftest import World
from tests.notify.conftest import Answer, Receiver
from tests.web.conftest import WebHarness


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


async def test_other_writes_go_on_while_the_pages_send_test_waits(
    web: WebHarness, world: World, receiver: Receiver
) -> None:
    created = await world.post(
        "admin", "/api/v1/channels", json={"name": "hook", "kind": "webhook", "url": receiver.url}
    )
    assert created.status_code == 201, created.text
    page = f"/admin/channels/{created.json()['id']}"
    browser = await web.sign_in("admin")
    await browser.get(page)  # the form's CSRF token
    receiver.answer(Answer(500, body=b"receiver broken"))
    receiver.hold()  # the receiver keeps its answer back until released
    sending = asyncio.create_task(browser.post(f"{page}/test"))
    try:
        await receiver.wait_for(1)  # the test message is with the receiver now
        await world.create_ticket("alice")  # a write, while the receiver still holds on
        assert not sending.done(), "the ticket was created only after the Send test ended"
    finally:
        receiver.release()
    tested = await sending
    assert tested.status_code == 200, tested.text
    assert 'id="test-status">500<' in tested.text
    assert "Send test: HTTP 500" in (await browser.get(page)).text
