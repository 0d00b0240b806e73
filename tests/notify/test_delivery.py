"""Every event reaches the channels that want it, in their own format, at least once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import generate_latest
from sqlalchemy import func, select
from standardwebhooks.webhooks import Webhook

from helpwire.api.metrics import Metrics
from helpwire.notify.models import Delivery, DeliveryAttempt
from helpwire.notify.relay import RETRY_SCHEDULE, Relay
from helpwire.notify.senders import SendResult
from tests.conftest import World
from tests.notify.conftest import Answer, FakeClock, Receiver, SmtpServer


async def make_channel(world: World, **spec: Any) -> dict[str, Any]:
    response = await world.post("admin", "/api/v1/channels", json=spec)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def deliveries(world: World) -> list[Delivery]:
    async with world.database.reader() as session:
        return list((await session.scalars(select(Delivery).order_by(Delivery.id))).unique())


async def test_a_new_ticket_reaches_each_chat_kind_in_its_own_shape(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    for kind in ("slack", "mattermost", "discord", "teams"):
        await make_channel(
            world,
            name=f"{kind} support",
            kind=kind,
            url=f"{receiver.url}?kind={kind}",
            rate_per_second=100,
        )
    await world.create_ticket(
        "alice",
        subject="Printer on fire",
        body="It smokes.\nSecond line.",
        priority="high",
        context={"request_id": "req-1", "user_agent": "Mozilla/5.0 Test"},
    )
    assert await make_relay().run_once() == 4
    by_kind = {r.path.split("kind=")[1]: r.json() for r in await receiver.wait_for(4)}
    slack = by_kind["slack"]
    assert "Printer on fire" in slack["text"] and slack["blocks"]
    slack_text = slack["text"] + str(slack["blocks"])
    for expected in (
        "alice",
        "customer",
        "Alice A",
        "alice@acme.test",
        "acme",
        "req-1",
        "Mozilla/5.0 Test",
        "> It smokes.",
        "> Second line.",
        "http://helpwire.test/tickets/1",
    ):
        assert expected in slack_text, expected
    assert "Printer on fire" in by_kind["mattermost"]["text"]
    assert by_kind["discord"]["allowed_mentions"] == {"parse": []}
    assert by_kind["discord"]["embeds"][0]["url"] == "http://helpwire.test/tickets/1"
    teams = by_kind["teams"]
    assert teams["type"] == "message"
    assert teams["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert teams["attachments"][0]["content"]["type"] == "AdaptiveCard"


async def test_a_webhook_is_signed_per_standard_webhooks(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    channel = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    secret = channel["secret"]
    assert secret.startswith("whsec_")
    # The secret is shown once, in the answer that created it.
    shown = (await world.get("admin", f"/api/v1/channels/{channel['id']}")).json()
    assert "secret" not in shown and shown["has_secret"] is True
    ticket = await world.create_ticket("alice", subject="Signed", body="hello")
    await make_relay().run_once()
    [request] = await receiver.wait_for(1)
    verified = Webhook(secret).verify(request.body, request.headers)
    assert verified["type"] == "ticket.created"
    data = verified["data"]
    assert data["version"] == 1
    assert data["ticket"]["number"] == ticket["number"]
    assert data["ticket"]["url"] == f"http://helpwire.test/tickets/{ticket['number']}"
    assert data["comment"]["body"] == "hello"
    assert request.headers["webhook-id"].startswith("msg_")


async def test_a_rotated_secret_keeps_the_old_one_signing_for_a_day(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    channel = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    rotated = await world.patch(
        "admin", f"/api/v1/channels/{channel['id']}", json={"rotate_secret": True}
    )
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != channel["secret"]
    assert rotated.json()["secret_rotating_until"] is not None
    await world.create_ticket("alice")
    await make_relay().run_once()
    [request] = await receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(new_secret).verify(request.body, request.headers)
    Webhook(channel["secret"]).verify(request.body, request.headers)


async def test_an_email_channel_sends_a_mail_with_subject_body_and_link(
    world: World, smtp_server: SmtpServer, make_relay: Callable[..., Relay]
) -> None:
    await make_channel(
        world,
        name="support mail",
        kind="email",
        email={
            "host": smtp_server.host,
            "port": smtp_server.port,
            "tls": "none",
            "from": "helpwire@helpwire.test",
            "to": ["support@acme.test", "oncall@acme.test"],
        },
    )
    await world.create_ticket("alice", subject="Mail me", body="Body of the request")
    await make_relay().run_once()
    [(recipients, message)] = await smtp_server.mailbox.wait_for(1)
    assert sorted(recipients) == ["oncall@acme.test", "support@acme.test"]
    assert "Mail me" in message["Subject"] and "#1" in message["Subject"]
    assert message["From"] == "helpwire@helpwire.test"
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    payload = text.get_payload(decode=True)
    assert isinstance(payload, bytes)
    content = payload.decode()
    assert "Body of the request" in content
    assert "http://helpwire.test/tickets/1" in content


async def test_a_failing_receiver_gets_exactly_the_scheduled_retries(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay], clock: FakeClock
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    receiver.answer(Answer(500), Answer(500), Answer(500), Answer(200))
    relay = make_relay(clock=clock, rng=random.Random(7))
    await world.create_ticket("alice")
    assert await relay.run_once() == 1
    for step in (1, 2, 3):
        [delivery] = await deliveries(world)
        assert delivery.state == "failed"
        assert delivery.next_attempt_at is not None
        wait = delivery.next_attempt_at - clock.now
        expected = RETRY_SCHEDULE[step]
        assert expected * 0.9 <= wait <= expected * 1.1, (step, wait)
        # Nothing is sent before its time...
        clock.advance(expected * 0.85)
        assert await relay.run_once() == 0
        # ...and it is sent once the time has come.
        clock.now = delivery.next_attempt_at
        assert await relay.run_once() == 1
    [delivery] = await deliveries(world)
    assert delivery.state == "delivered"
    assert delivery.attempt_count == 4
    requests = await receiver.wait_for(4)
    assert len(requests) == 4
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    detail = (await world.get("admin", f"/api/v1/deliveries/{delivery.id}")).json()
    assert [a["status_code"] for a in detail["attempts"]] == [500, 500, 500, 200]
    assert [a["outcome"] for a in detail["attempts"]] == ["retry", "retry", "retry", "delivered"]


async def test_retry_after_on_429_is_honoured(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay], clock: FakeClock
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    receiver.answer(Answer(429, headers={"Retry-After": "120"}))
    relay = make_relay(clock=clock)
    await world.create_ticket("alice")
    await relay.run_once()
    [delivery] = await deliveries(world)
    assert delivery.state == "failed"
    assert delivery.next_attempt_at == clock.now + timedelta(seconds=120)
    clock.advance(timedelta(seconds=119))
    assert await relay.run_once() == 0
    clock.advance(timedelta(seconds=1))
    assert await relay.run_once() == 1
    [delivery] = await deliveries(world)
    assert delivery.state == "delivered"


async def test_410_disables_the_channel_and_a_dead_delivery_can_be_redelivered(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay], clock: FakeClock
) -> None:
    channel = await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    receiver.answer(Answer(410, body=b"gone"))
    relay = make_relay(clock=clock)
    await world.create_ticket("alice")
    await relay.run_once()
    shown = (await world.get("admin", f"/api/v1/channels/{channel['id']}")).json()
    assert shown["health"]["enabled"] is False
    assert "410" in shown["health"]["disabled_reason"]
    [delivery] = await deliveries(world)
    assert delivery.state == "dead"
    dead = await world.get("admin", f"/api/v1/channels/{channel['id']}/deliveries?state=dead")
    assert [d["id"] for d in dead.json()["items"]] == [delivery.id]
    # A disabled channel takes no new events, and redelivering into it is refused.
    await world.create_ticket("alice")
    assert len(await deliveries(world)) == 1
    refused = await world.post("admin", f"/api/v1/deliveries/{delivery.id}/redeliver")
    assert refused.status_code == 409
    enabled = await world.patch(
        "admin", f"/api/v1/channels/{channel['id']}", json={"enabled": True}
    )
    assert enabled.json()["health"]["enabled"] is True
    again = await world.post("admin", f"/api/v1/deliveries/{delivery.id}/redeliver")
    assert again.status_code == 200 and again.json()["state"] == "pending"
    assert await relay.run_once() == 1
    [delivery] = await deliveries(world)
    assert delivery.state == "delivered"
    requests = await receiver.wait_for(2)
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]


async def test_a_delivery_dies_after_the_last_scheduled_retry(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay], clock: FakeClock
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    receiver.answer(*[Answer(503)] * len(RETRY_SCHEDULE))
    relay = make_relay(clock=clock)
    await world.create_ticket("alice")
    for _ in RETRY_SCHEDULE:
        clock.advance(timedelta(hours=30))
        assert await relay.run_once() == 1
    [delivery] = await deliveries(world)
    assert delivery.state == "dead"
    assert delivery.attempt_count == len(RETRY_SCHEDULE)
    clock.advance(timedelta(days=3))
    assert await relay.run_once() == 0


async def test_a_request_that_rolls_back_sends_nothing(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    refused = await world.post(
        "alice", "/api/v1/tickets", json={"subject": "x", "body": "y", "topic": "nope"}
    )
    assert refused.status_code == 422
    assert await deliveries(world) == []
    assert await make_relay().run_once() == 0
    assert receiver.requests == []


async def test_internal_notes_reach_only_channels_that_include_them(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    await make_channel(world, name="public", kind="webhook", url=f"{receiver.url}?c=public")
    await make_channel(
        world, name="staff", kind="webhook", url=f"{receiver.url}?c=staff", include_internal=True
    )
    ticket = await world.create_ticket("alice")
    note = await world.post(
        "agent",
        f"/api/v1/tickets/{ticket['number']}/comments",
        json={"body": "secret refund plan", "internal": True},
    )
    assert note.status_code == 201
    await make_relay().run_once()
    requests = await receiver.wait_for(3)
    public = [r for r in requests if r.path.endswith("c=public")]
    staff = [r for r in requests if r.path.endswith("c=staff")]
    assert [r.json()["type"] for r in public] == ["ticket.created"]
    assert [r.json()["type"] for r in staff] == ["ticket.created", "comment.created"]
    assert all(b"secret refund plan" not in r.body for r in public)
    assert staff[1].json()["data"]["comment"]["internal"] is True


async def test_a_customers_channel_cannot_include_internal_notes(world: World) -> None:
    refused = await world.post(
        "admin",
        "/api/v1/channels",
        json={
            "name": "portal",
            "kind": "webhook",
            "url": "http://127.0.0.1:9/x",
            "audience": "customers",
            "include_internal": True,
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "include_internal"


async def test_channels_filter_by_event_type_topic_priority_and_account(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    await make_channel(
        world,
        name="billing urgent",
        kind="webhook",
        url=f"{receiver.url}?c=filtered",
        events=["ticket.created", "ticket.escalated"],
        filters={"topics": ["billing"], "priorities": ["urgent", "high"], "accounts": ["acme"]},
    )
    await world.create_ticket("alice", topic="billing", priority="low")  # priority filtered out
    await world.create_ticket("gus", topic="billing", priority="high")  # other account
    await world.create_ticket("alice", topic="network", priority="high")  # other topic
    wanted = await world.create_ticket("alice", topic="billing", priority="high")
    await world.post("alice", f"/api/v1/tickets/{wanted['number']}/comments", json={"body": "x"})
    await world.post("alice", f"/api/v1/tickets/{wanted['number']}/escalate")
    await make_relay().run_once()
    requests = await receiver.wait_for(2)
    assert [(r.json()["type"], r.json()["data"]["ticket"]["number"]) for r in requests] == [
        ("ticket.created", wanted["number"]),
        ("ticket.escalated", wanted["number"]),
    ]


async def test_a_channel_sends_at_its_rate_one_at_a_time(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay]
) -> None:
    await make_channel(
        world,
        name="slow chat",
        kind="slack",
        url=receiver.url,
        rate_per_second=20,
        max_concurrency=1,
    )
    for _ in range(4):
        await world.create_ticket("alice")
    await make_relay().run_once()
    requests = await receiver.wait_for(4)
    # 20 a second: sends start 50 ms apart, none dropped. Arrival times carry the jitter
    # of a loaded machine, so the whole span is checked, with room for that jitter.
    span = requests[-1].at - requests[0].at
    assert span >= 3 * 0.05 * 0.8, span


async def test_every_attempt_is_recorded_with_status_duration_and_snippet(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay], clock: FakeClock
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    receiver.answer(Answer(500, body=b"database on fire"))
    await world.create_ticket("alice")
    await make_relay(clock=clock).run_once()
    async with world.database.reader() as session:
        [attempt] = (await session.scalars(select(DeliveryAttempt))).all()
        count = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
    assert count == 1
    assert attempt.status_code == 500
    assert attempt.response_snippet == "database on fire"
    assert attempt.duration_ms >= 0
    channel = (await world.get("admin", "/api/v1/channels")).json()[0]
    assert channel["health"]["consecutive_failures"] == 1
    assert "500" in channel["health"]["last_failure_reason"]


@pytest.mark.parametrize("unreachable", ["http://127.0.0.1:9/nothing-listens"])
async def test_an_unreachable_receiver_is_a_failed_attempt_not_a_crash(
    world: World, make_relay: Callable[..., Relay], clock: FakeClock, unreachable: str
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=unreachable)
    await world.create_ticket("alice")
    await make_relay(clock=clock).run_once()
    [delivery] = await deliveries(world)
    assert delivery.state == "failed"
    assert delivery.last_error and "Connect" in delivery.last_error


async def test_metrics_count_attempts_latency_and_what_waits(
    world: World, receiver: Receiver, make_relay: Callable[..., Relay], clock: FakeClock
) -> None:
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    receiver.answer(Answer(500))
    metrics = Metrics.create()
    relay = make_relay(clock=clock, metrics=metrics)
    before = datetime.now(UTC)
    await world.create_ticket("alice")
    await world.create_ticket("alice")
    after = datetime.now(UTC)
    await relay.run_once()  # one fails, one is delivered
    await relay.refresh_gauges(force=True)
    text = generate_latest(metrics.registry).decode()
    assert 'helpwire_delivery_attempts_total{kind="webhook",outcome="delivered"} 1.0' in text
    assert 'helpwire_delivery_attempts_total{kind="webhook",outcome="retry"} 1.0' in text
    assert "helpwire_delivery_latency_seconds_count 1.0" in text
    assert 'helpwire_deliveries{state="failed"} 1.0' in text
    assert "helpwire_outbox_queue_depth 1.0" in text
    age = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("helpwire_outbox_oldest_pending_age_seconds ")
    )
    # The fake clock runs about a minute ahead of the events; exactly how far depends on
    # when they were made, which a busy machine stretches.
    assert (clock.now - after).total_seconds() - 0.01 <= age
    assert age <= (clock.now - before).total_seconds() + 0.01


def spy_on_records(
    relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[list[int]], asyncio.Event]:
    """The delivery ids of each transaction the relay records attempts in, and an event
    set at the first."""
    batches: list[list[int]] = []
    first = asyncio.Event()
    record = relay._record

    async def recording(attempts: list[tuple[Delivery, SendResult]]) -> None:
        await record(attempts)
        batches.append([delivery.id for delivery, _ in attempts])
        first.set()

    monkeypatch.setattr(relay, "_record", recording)
    return batches, first


async def test_a_slow_receiver_does_not_hold_back_the_record_of_the_others(
    world: World,
    receiver: Receiver,
    make_relay: Callable[..., Relay],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow = Receiver()
    try:
        await make_channel(world, name="fast", kind="webhook", url=receiver.url)
        await make_channel(world, name="slow", kind="webhook", url=slow.url)
        await world.create_ticket("alice")
        slow.hold()
        relay = make_relay(clock=clock)
        batches, first = spy_on_records(relay, monkeypatch)
        running = asyncio.create_task(relay.run_once())
        await asyncio.wait_for(first.wait(), 30)

        fast_delivery, slow_delivery = await deliveries(world)
        assert fast_delivery.state == "delivered"
        assert slow_delivery.attempt_count == 0  # still being sent
        slow.release()
        assert await running == 2
    finally:
        slow.close()
    assert batches == [[fast_delivery.id], [slow_delivery.id]]
    assert {d.state for d in await deliveries(world)} == {"delivered"}


async def test_attempts_that_end_together_are_recorded_together(
    world: World,
    receiver: Receiver,
    make_relay: Callable[..., Relay],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_channel(
        world,
        name="hook",
        kind="webhook",
        url=receiver.url,
        max_concurrency=20,
        rate_per_second=1000,
    )
    for _ in range(20):
        await world.create_ticket("alice")
    receiver.hold()
    relay = make_relay(clock=clock)
    batches, _first = spy_on_records(relay, monkeypatch)
    running = asyncio.create_task(relay.run_once())
    await receiver.wait_for(20)  # every send is waiting for its answer
    receiver.release()
    assert await running == 20

    assert sorted(i for batch in batches for i in batch) == [d.id for d in await deliveries(world)]
    # Each transaction records what ended while the previous one was being written.
    assert len(batches) < 10, batches
    async with world.database.reader() as session:
        attempts = await session.scalar(select(func.count()).select_from(DeliveryAttempt))
    assert attempts == 20


async def test_a_pass_claims_again_only_after_a_full_batch(
    world: World,
    receiver: Receiver,
    make_relay: Callable[..., Relay],
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A batch smaller than the batch size was everything due: no transaction to find the
    queue empty. A full batch may have left more behind, so it claims again."""
    await make_channel(world, name="hook", kind="webhook", url=receiver.url)
    for _ in range(3):
        await world.create_ticket("alice")
    claims: list[int] = []

    def spy(relay: Relay) -> Relay:
        claim = relay._claim

        async def claiming() -> list[Delivery]:
            batch = await claim()
            claims.append(len(batch))
            return batch

        monkeypatch.setattr(relay, "_claim", claiming)
        return relay

    assert await spy(make_relay(clock=clock, batch_size=2)).run_once() == 3
    assert claims == [2, 1]
    for _ in range(2):
        await world.create_ticket("alice")
    claims.clear()
    assert await spy(make_relay(clock=clock, batch_size=2)).run_once() == 2
    assert claims == [2, 0]
    assert len(receiver.requests) == 5
