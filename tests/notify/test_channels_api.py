"""Admins manage channels over the API; settings may declare them too."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.notify.channels import apply_declared_channels
from helpwire.notify.outbound import STRICT
from helpwire.settings import Settings
from tests.conftest import World, build_world
from tests.notify.conftest import Answer, Receiver


async def test_channel_input_is_checked_kind_by_kind(world: World) -> None:
    cases = [
        ({"name": "a", "kind": "slack"}, "url"),
        ({"name": "a", "kind": "slack", "url": "ftp://x"}, "url"),
        ({"name": "a", "kind": "slack", "url": "hooks.slack.com/x"}, "url"),
        ({"name": "a", "kind": "email"}, "email"),
        ({"name": "a", "kind": "slack", "url": "https://x.test", "secret": "whsec_abc"}, "secret"),
        ({"name": "a", "kind": "webhook", "url": "https://x.test", "secret": "nope"}, "secret"),
        (
            {
                "name": "a",
                "kind": "webhook",
                "url": "https://x.test",
                "events": ["ticket.exploded"],
            },
            "events",
        ),
        (
            {
                "name": "a",
                "kind": "webhook",
                "url": "https://x.test",
                "filters": {"priorities": ["critical"]},
            },
            "filters.priorities",
        ),
        (
            {
                "name": "a",
                "kind": "webhook",
                "url": "https://x.test",
                "filters": {"topics": ["nope"]},
            },
            "filters.topics",
        ),
        (
            {
                "name": "a",
                "kind": "webhook",
                "url": "https://x.test",
                "filters": {"accounts": ["nope"]},
            },
            "filters.accounts",
        ),
        ({"name": "a", "kind": "carrier-pigeon", "url": "https://x.test"}, "kind"),
    ]
    for spec, field in cases:
        response = await world.post("admin", "/api/v1/channels", json=spec)
        assert response.status_code == 422, (spec, response.text)
        assert response.json()["errors"][0]["field"] == field, (spec, response.json())
    assert (await world.get("admin", "/api/v1/channels")).json() == []


async def test_channel_crud_and_names_are_unique(world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "support", "kind": "slack", "url": "https://hooks.slack.test/T/B/x"},
    )
    assert created.status_code == 201
    channel = created.json()
    assert channel["events"] == [
        "ticket.created",
        "ticket.updated",
        "ticket.status_changed",
        "ticket.assigned",
        "ticket.escalated",
        "ticket.rated",
        "comment.created",
        "comment.rated",
        "ticket.merged",
        "ticket.split",
        "sla.warning",
        "sla.breached",
        "rule.applied",
        "person.erased",
    ]
    assert channel["rate_per_second"] == 1.0 and channel["max_concurrency"] == 1
    assert channel["secret"] is None
    duplicate = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "support", "kind": "slack", "url": "https://hooks.slack.test/T/B/y"},
    )
    assert duplicate.status_code == 409
    changed = await world.patch(
        "admin", f"/api/v1/channels/{channel['id']}", json={"events": ["ticket.created"]}
    )
    assert changed.json()["events"] == ["ticket.created"]
    deleted = await world.request("admin", "DELETE", f"/api/v1/channels/{channel['id']}")
    assert deleted.status_code == 204
    assert (await world.get("admin", f"/api/v1/channels/{channel['id']}")).status_code == 404


async def test_an_email_channel_never_shows_its_password(world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/channels",
        json={
            "name": "mail",
            "kind": "email",
            "email": {
                "host": "smtp.test",
                "port": 587,
                "username": "u",
                "password": "hunter22",
                "from": "helpwire@x.test",
                "to": ["a@x.test"],
            },
        },
    )
    assert created.status_code == 201, created.text
    assert "hunter22" not in created.text
    assert created.json()["email"]["username"] == "u"
    listed = await world.get("admin", "/api/v1/channels")
    assert "hunter22" not in listed.text


async def test_only_admins_manage_channels(world: World) -> None:
    for who in ("agent", "alice"):
        assert (await world.get(who, "/api/v1/channels")).status_code == 403
        created = await world.post(
            who, "/api/v1/channels", json={"name": "x", "kind": "slack", "url": "https://x.test"}
        )
        assert created.status_code == 403


async def test_send_test_returns_the_receivers_answer(world: World, receiver: Receiver) -> None:
    channel = (
        await world.post(
            "admin",
            "/api/v1/channels",
            json={"name": "hook", "kind": "webhook", "url": receiver.url},
        )
    ).json()
    receiver.answer(Answer(202, body=b"thanks"))
    result = await world.post("admin", f"/api/v1/channels/{channel['id']}/test")
    assert result.status_code == 200
    assert result.json()["ok"] is True
    assert result.json()["status_code"] == 202
    assert result.json()["response"] == "thanks"
    [request] = await receiver.wait_for(1)
    assert request.json()["type"] == "channel.test"
    receiver.answer(Answer(500, body=b"nope"))
    failed = (await world.post("admin", f"/api/v1/channels/{channel['id']}/test")).json()
    assert failed["ok"] is False and failed["status_code"] == 500


async def test_channels_declared_in_settings_are_created_kept_in_step_and_read_only(
    world: World, tmp_path: Path
) -> None:
    declared = (
        '[{"name": "every new ticket", "kind": "slack", "url": "https://hooks.slack.test/a",'
        ' "events": ["ticket.created"]}]'
    )
    async with world.database.writing() as session:
        count = await apply_declared_channels(session, inline=declared, path=None, policy=STRICT)
        assert count == 1
    [channel] = (await world.get("admin", "/api/v1/channels")).json()
    assert channel["managed_by"] == "settings"
    assert channel["events"] == ["ticket.created"]
    refused = await world.patch(
        "admin", f"/api/v1/channels/{channel['id']}", json={"enabled": False}
    )
    assert refused.status_code == 409
    refused_delete = await world.request("admin", "DELETE", f"/api/v1/channels/{channel['id']}")
    assert refused_delete.status_code == 409
    # A changed declaration updates the channel; a dropped one is disabled, log kept.
    yaml_file = tmp_path / "channels.yaml"
    yaml_file.write_text(
        "- name: every new ticket\n  kind: slack\n  url: https://hooks.slack.test/b\n"
        "  events: [ticket.created, ticket.escalated]\n",
        encoding="utf-8",
    )
    async with world.database.writing() as session:
        await apply_declared_channels(session, inline=None, path=yaml_file, policy=STRICT)
    [channel] = (await world.get("admin", "/api/v1/channels")).json()
    assert channel["url"] == "https://hooks.slack.test/b"
    assert channel["events"] == ["ticket.created", "ticket.escalated"]
    async with world.database.writing() as session:
        await apply_declared_channels(session, inline="[]", path=None, policy=STRICT)
    [channel] = (await world.get("admin", "/api/v1/channels")).json()
    assert channel["health"]["enabled"] is False


async def test_a_broken_channel_declaration_is_a_clear_error(world: World) -> None:
    for declared, message in [
        ("{not json", "not valid JSON"),
        ('{"name": "x"}', "must be a list"),
        ('[{"name": "x", "kind": "slack"}]', "url"),
    ]:
        try:
            async with world.database.writing() as session:
                await apply_declared_channels(session, inline=declared, path=None, policy=STRICT)
        except Exception as exc:  # ValueError, or the service's own 422 problem
            assert message in str(exc), (declared, str(exc))
        else:
            raise AssertionError(f"{declared!r} was accepted")


async def test_serve_wakes_its_relay_the_moment_a_ticket_commits(
    settings: Settings, receiver: Receiver
) -> None:
    # A long poll interval: only the wake-up on commit can deliver in time.
    app = create_app(
        settings.model_copy(update={"relay_in_process": True, "relay_poll_seconds": 300})
    )
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://helpwire.test"
        ) as client:
            world = await build_world(client, app.state.database)
            await world.post(
                "admin",
                "/api/v1/channels",
                json={"name": "hook", "kind": "webhook", "url": receiver.url},
            )
            await world.create_ticket("alice", subject="wake up")
            [request] = await receiver.wait_for(1, timeout=10)
    assert request.json()["data"]["ticket"]["subject"] == "wake up"
