"""Channels cannot reach internal services: loopback, private, link-local, unspecified,
multicast and reserved addresses are refused in every spelling, when a channel is saved
and again on the address actually connected to, unless the allow-list names them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import typer

from helpwire import cli
from helpwire.notify.models import Channel, ChannelKind
from helpwire.notify.outbound import STRICT, AddressPolicy
from helpwire.notify.senders import Sender
from helpwire.notify.signing import generate_secret
from helpwire.settings import Settings
from tests.conftest import World
from tests.notify.conftest import Answer, Receiver, SmtpServer

INTERNAL_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",
    "http://10.0.0.1/",
    "http://192.168.1.1:8080/",
    "http://0.0.0.0/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://[::1]/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://localhost/",
    "http://LocalHost./",
    "http://app.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://intranet/",
]
# Names no resolver here knows: refused when saved; at send time they do not resolve.
UNRESOLVABLE = {
    "http://LocalHost./",
    "http://app.localhost/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://intranet/",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """This installation allows no internal receiver (the suite's default allows loopback,
    where its test receivers listen)."""
    return settings.model_copy(update={"channel_allowed_networks": ""})


def webhook(url: str) -> Channel:
    secret = generate_secret()
    return Channel(id=1, name="t", kind=ChannelKind.WEBHOOK.value, url=url, secret=secret)


async def send(sender: Sender, channel: Channel) -> Any:
    now = datetime.now(UTC)
    payload = {"type": "channel.test", "timestamp": now.isoformat(), "data": {}}
    return await sender.send(channel, payload, message_id="msg_1", now=now)


async def test_internal_receivers_are_refused_when_a_channel_is_saved(world: World) -> None:
    for kind in ("webhook", "slack"):
        for url in INTERNAL_URLS:
            spec = {"name": "internal", "kind": kind, "url": url}
            response = await world.post("admin", "/api/v1/channels", json=spec)
            assert response.status_code == 422, (url, response.text)
            [error] = response.json()["errors"]
            assert error["field"] == "url", (url, error)
            assert "HELPWIRE_CHANNEL_ALLOWED_NETWORKS" in error["message"], error
    created = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "public", "kind": "webhook", "url": "https://hooks.example.com/x"},
    )
    assert created.status_code == 201, created.text
    number = created.json()["id"]
    for url in INTERNAL_URLS:
        changed = await world.patch("admin", f"/api/v1/channels/{number}", json={"url": url})
        assert changed.status_code == 422, (url, changed.text)
    stored = await world.get("admin", f"/api/v1/channels/{number}")
    assert stored.json()["url"] == "https://hooks.example.com/x"


async def test_an_smtp_host_inside_is_refused_when_saved(world: World) -> None:
    for host in ("127.0.0.1", "localhost", "10.1.2.3", "[::1]"):
        spec = {
            "name": "mail",
            "kind": "email",
            "email": {"host": host, "from": "h@example.com", "to": ["a@example.com"]},
        }
        response = await world.post("admin", "/api/v1/channels", json=spec)
        assert response.status_code == 422, (host, response.text)
        assert response.json()["errors"][0]["field"] == "email.host"


async def test_every_internal_spelling_is_refused_at_send(receiver: Receiver) -> None:
    port = receiver.server.server_address[1]
    # These all reach the local receiver when nothing checks the address connected to;
    # `localhost` is a name the resolver turns into a loopback address.
    reachable = [
        f"http://127.0.0.1:{port}/hook",
        f"http://127.1:{port}/hook",
        f"http://2130706433:{port}/hook",
        f"http://localhost:{port}/hook",
        f"http://[::ffff:127.0.0.1]:{port}/hook",
    ]
    sender = Sender(policy=STRICT)
    try:
        for url in [*reachable, *(u for u in INTERNAL_URLS if u not in UNRESOLVABLE)]:
            result = await send(sender, webhook(url))
            assert not result.ok, url
            assert result.status_code is None and result.response is None, (url, result)
            assert result.error is not None and "refused" in result.error, (url, result.error)
    finally:
        await sender.aclose()
    assert receiver.requests == []


async def test_allow_listed_receivers_are_reached(receiver: Receiver) -> None:
    for allowed in (["127.0.0.0/8"], ["127.0.0.1"], ["localhost"]):
        sender = Sender(policy=AddressPolicy(allowed))
        try:
            host = "localhost" if allowed == ["localhost"] else "127.0.0.1"
            url = receiver.url.replace("127.0.0.1", host)
            result = await send(sender, webhook(url))
        finally:
            await sender.aclose()
        assert result.ok, (allowed, result)
    # An allow-list for one network does not open another.
    sender = Sender(policy=AddressPolicy(["10.0.0.0/8"]))
    try:
        refused = await send(sender, webhook(receiver.url))
    finally:
        await sender.aclose()
    assert refused.error is not None and "loopback" in refused.error
    assert len(receiver.requests) == 3


async def test_a_redirect_is_not_followed_and_its_body_not_shown(receiver: Receiver) -> None:
    inner = Receiver()
    try:
        receiver.answer(
            Answer(302, headers={"Location": inner.url}, body=b"internal secret page"),
            Answer(301, headers={"Location": "http://169.254.169.254/"}, body=b"more secrets"),
        )
        sender = Sender(policy=AddressPolicy(["127.0.0.0/8"]))
        try:
            first = await send(sender, webhook(receiver.url))
            second = await send(sender, webhook(receiver.url))
        finally:
            await sender.aclose()
        for result in (first, second):
            assert not result.ok
            assert result.status_code in (301, 302)
            assert "secret" not in (result.response or "")
            assert "not followed" in (result.response or ""), result
        assert inner.requests == []
    finally:
        inner.close()


async def test_smtp_to_an_internal_host_is_refused_at_send(smtp_server: SmtpServer) -> None:
    config = {"host": "localhost", "port": smtp_server.port, "tls": "none"}
    channel = Channel(
        id=1,
        name="mail",
        kind=ChannelKind.EMAIL.value,
        email={**config, "from": "helpwire@example.com", "to": ["ops@example.com"]},
    )
    sender = Sender(policy=STRICT)
    try:
        refused = await send(sender, channel)
    finally:
        await sender.aclose()
    assert not refused.ok and refused.error is not None and "refused" in refused.error
    assert smtp_server.mailbox.messages == []
    allowed = Sender(policy=AddressPolicy(["localhost"]))
    try:
        sent = await send(allowed, channel)
    finally:
        await allowed.aclose()
    assert sent.ok, sent
    await smtp_server.mailbox.wait_for(1)


async def test_send_test_of_a_refused_channel_shows_no_answer(
    world: World, receiver: Receiver
) -> None:
    # A row saved before the check existed (or by hand): the send-time check refuses it.
    async with world.database.writing() as session:
        channel = Channel(
            name="old",
            kind=ChannelKind.SLACK.value,
            url=receiver.url.replace("127.0.0.1", "localhost"),
            events=["ticket.created"],
            filters={},
        )
        session.add(channel)
        await session.flush()
        number = channel.id
    tested = await world.post("admin", f"/api/v1/channels/{number}/test")
    assert tested.status_code == 200
    body = tested.json()
    assert body["ok"] is False and body["response"] is None and body["status_code"] is None
    assert "refused" in body["error"] and "loopback" in body["error"]
    assert receiver.requests == []


async def test_a_declared_channel_to_an_internal_address_stops_the_start(
    world: World, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    declared = '[{"name": "intranet", "kind": "webhook", "url": "http://10.0.0.1/hook"}]'
    refused = settings.model_copy(update={"channels": declared})
    with pytest.raises(typer.Exit):
        await cli._apply_declared_channels(world.database, refused)
    assert "10.0.0.1 is a private address" in " ".join(capsys.readouterr().err.split())
    allowed = refused.model_copy(update={"channel_allowed_networks": "10.0.0.0/8"})
    await cli._apply_declared_channels(world.database, allowed)
    [channel] = (await world.get("admin", "/api/v1/channels")).json()
    assert channel["url"] == "http://10.0.0.1/hook"


async def test_a_name_that_rebinds_is_connected_at_the_address_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # DNS rebinding: a name answers a public address when checked and an internal one a
    # moment later. The connection goes to the address that was checked, by number; the
    # name is not resolved a second time.
    import socket

    import anyio
    import httpcore

    from helpwire.notify import outbound

    answers = iter(["93.184.216.34", "127.0.0.1", "127.0.0.1"])
    lookups: list[str] = []

    async def rebinding(host: str, port: int, **_: Any) -> list[Any]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(anyio, "getaddrinfo", rebinding)
    backend = outbound.CheckedBackend(STRICT)
    connected: list[str] = []

    async def connect_tcp(host: str, port: int, *_: Any, **__: Any) -> Any:
        connected.append(host)
        raise httpcore.ConnectError("not connecting anywhere in a test")

    monkeypatch.setattr(backend._inner, "connect_tcp", connect_tcp)
    with pytest.raises(httpcore.ConnectError):
        await backend.connect_tcp("rebinding.example", 80, timeout=5)
    assert (lookups, connected) == (["rebinding.example"], ["93.184.216.34"])
    # Asked again, the name now answers loopback and is refused before any connection.
    with pytest.raises(outbound.RefusedTarget):
        await backend.connect_tcp("rebinding.example", 80, timeout=5)
    assert connected == ["93.184.216.34"]
