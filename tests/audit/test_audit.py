"""The audit log: admin changes to users, tokens, channels, groups, calendars, policies,
rules, macros, topics and mail templates, with who, before and after; never a secret;
admins only; filtered by actor, target type and time, and paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import World

AUDIT = "/api/v1/audit"


async def entries(world: World, **params: Any) -> list[dict[str, Any]]:
    response = await world.get("admin", AUDIT, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_user_and_token_changes_are_logged_with_before_and_after(world: World) -> None:
    changed = await world.patch(
        "admin", "/api/v1/users/alice", json={"real_name": "Alice Anders", "password": "pw-1234567"}
    )
    assert changed.status_code == 200, changed.text
    made = await world.post("admin", "/api/v1/tokens", json={"username": "bob", "label": "ci"})
    token_id = made.json()["id"]
    assert (await world.request("admin", "DELETE", f"/api/v1/tokens/{token_id}")).status_code == 200

    newest, created, updated = (await entries(world, actor="admin"))[:3]
    assert updated["action"] == "user.updated" and updated["target_key"] == "alice"
    assert updated["actor"] == "admin" and updated["target_type"] == "user"
    assert updated["before"]["real_name"] == "Alice A"
    assert updated["after"]["real_name"] == "Alice Anders"
    assert updated["after"]["password"] == "[redacted, changed]" and updated["request_id"]
    assert created["action"] == "token.created" and created["after"]["label"] == "ci"
    assert newest["action"] == "token.revoked" and newest["target_key"] == str(token_id)
    assert newest["before"]["revoked_at"] is None and newest["after"]["revoked_at"]
    text = str(await entries(world))
    assert "pw-1234567" not in text and "$argon2" not in text and made.json()["token"] not in text


async def test_channel_secrets_and_urls_never_reach_the_log(world: World) -> None:
    url = "http://127.0.0.1:9/hook?key=very-private"
    made = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "ops", "kind": "webhook", "url": url, "secret": "whsec_" + "A" * 32},
    )
    assert made.status_code == 201, made.text
    channel = made.json()["id"]
    rotated = await world.patch(
        "admin", f"/api/v1/channels/{channel}", json={"rotate_secret": True, "enabled": False}
    )
    assert rotated.status_code == 200, rotated.text
    updated, created = await entries(world, target_type="channel")
    assert created["action"] == "channel.created" and created["after"]["url"] == "[redacted]"
    assert updated["before"]["enabled"] is True and updated["after"]["enabled"] is False
    assert updated["before"]["secret"] == "[redacted]"
    assert updated["after"]["secret"] == "[redacted, changed]"
    assert updated["after"]["url"] == "[redacted]"  # the same URL: no change to tell
    log = (await world.get("admin", AUDIT)).text
    assert "very-private" not in log and "A" * 32 not in log
    assert rotated.json().get("secret", "unset") not in log
    deleted = await world.request("admin", "DELETE", f"/api/v1/channels/{channel}")
    assert deleted.status_code == 204
    assert (await entries(world, target_type="channel"))[0]["action"] == "channel.deleted"


async def test_groups_calendars_policies_rules_topics_and_templates_are_logged(
    world: World,
) -> None:
    steps = [
        ("POST", "/api/v1/groups", {"key": "net", "name": "Net", "members": ["agent"]}),
        ("PATCH", "/api/v1/groups/net", {"name": "Network"}),
        (
            "POST",
            "/api/v1/calendars",
            {"key": "office", "name": "Office", "windows": {"mon": [["09:00", "17:00"]]}},
        ),
        (
            "POST",
            "/api/v1/sla-policies",
            {"name": "Fast", "targets": {"resolution": {"minutes": 600}}},
        ),
        (
            "POST",
            "/api/v1/triggers",
            {
                "name": "T",
                "events": ["ticket.created"],
                "actions": [{"type": "add_tags", "value": ["x"]}],
            },
        ),
        ("POST", "/api/v1/macros", {"name": "M", "body": "Hello", "shared": True}),
        ("PATCH", "/api/v1/topics/network", {"position": 7}),
        (
            "PUT",
            "/api/v1/mail/templates/reply/en",
            {"subject": "Re: #{{ ticket.number }}", "text": "A reply.", "html": "<p>A reply.</p>"},
        ),
    ]
    for method, url, body in steps:
        response = await world.request("admin", method, url, json=body)
        assert response.status_code in (200, 201), (url, response.text)
    actions = [e["action"] for e in await entries(world, actor="admin")]
    assert actions[: len(steps)][::-1] == [
        "group.created",
        "group.updated",
        "calendar.created",
        "sla_policy.created",
        "trigger.created",
        "macro.created",
        "topic.updated",
        "mail_template.changed",
    ]
    (topic,) = await entries(world, target_type="topic", actor="admin")
    assert topic["before"]["position"] == 0 and topic["after"]["position"] == 7

    ids = {e["target_type"]: e["target_key"] for e in await entries(world, actor="admin")}
    changes = [
        ("PATCH", f"/api/v1/calendars/{ids['calendar']}", {"name": "Office hours"}),
        ("PATCH", f"/api/v1/sla-policies/{ids['sla_policy']}", {"warning_minutes": 5}),
        ("PATCH", f"/api/v1/triggers/{ids['trigger']}", {"is_active": False}),
        ("PATCH", f"/api/v1/macros/{ids['macro']}", {"body": "Hello again"}),
        ("DELETE", f"/api/v1/macros/{ids['macro']}", None),
        ("DELETE", f"/api/v1/triggers/{ids['trigger']}", None),
        ("DELETE", f"/api/v1/sla-policies/{ids['sla_policy']}", None),
        ("DELETE", f"/api/v1/calendars/{ids['calendar']}", None),
        ("DELETE", "/api/v1/groups/net", None),
        ("DELETE", "/api/v1/mail/templates/reply/en", None),
    ]
    for method, url, body in changes:
        response = await world.request("admin", method, url, json=body)
        assert response.status_code in (200, 204), (url, response.text)
    logged = await entries(world, actor="admin")
    assert [e["action"] for e in logged[: len(changes)]][::-1] == [
        "calendar.updated",
        "sla_policy.updated",
        "trigger.updated",
        "macro.updated",
        "macro.deleted",
        "trigger.deleted",
        "sla_policy.deleted",
        "calendar.deleted",
        "group.deleted",
        "mail_template.reset",
    ]
    deleted_group = logged[1]
    assert deleted_group["after"] is None and deleted_group["before"]["name"] == "Network"
    assert logged[0]["after"] == {"customized": False}


async def test_only_admins_read_the_log_and_it_filters_and_pages(world: World) -> None:
    for who in ("agent", "owner", "acme-portal"):
        assert (await world.get(who, AUDIT)).status_code == 403
    assert (await world.client.get(AUDIT)).status_code == 401

    for name in ("one", "two", "three"):
        await world.patch("admin", "/api/v1/users/carol", json={"real_name": name})
    # The world's users were made with no caller: the system's entries.
    assert all(e["actor"] is None for e in await entries(world, target_type="token"))

    first = await world.get("admin", AUDIT, params={"actor": "admin", "limit": 2})
    page = first.json()
    assert [e["after"]["real_name"] for e in page["items"]] == ["three", "two"]
    second = await world.get(
        "admin", AUDIT, params={"actor": "admin", "limit": 2, "cursor": page["next_cursor"]}
    )
    assert [e["after"]["real_name"] for e in second.json()["items"]] == ["one"]
    assert second.json()["next_cursor"] is None

    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert await entries(world, since=later) == []
    assert len(await entries(world, until=later, actor="admin")) == 3
    unknown = await world.get("admin", AUDIT, params={"actor": "nobody"})
    assert unknown.status_code == 422
    bad_cursor = await world.get("admin", AUDIT, params={"cursor": "nonsense"})
    assert bad_cursor.status_code == 422


async def test_custom_field_definitions_are_logged(world: World) -> None:
    made = await world.post(
        "admin",
        "/api/v1/fields",
        json={"key": "plan", "name": "Plan", "kind": "select", "options": ["free", "gold"]},
    )
    assert made.status_code == 201, made.text
    changed = await world.patch(
        "admin", "/api/v1/fields/plan", json={"options": ["free", "gold", "team"]}
    )
    assert changed.status_code == 200, changed.text
    unchanged = await world.patch("admin", "/api/v1/fields/plan", json={"name": "Plan"})
    assert unchanged.status_code == 200, unchanged.text

    updated, created = await entries(world, target_type="field")
    assert created["action"] == "field.created" and created["before"] is None
    assert created["target_key"] == "plan" and created["after"]["options"] == ["free", "gold"]
    assert updated["action"] == "field.updated" and updated["actor"] == "admin"
    assert updated["before"]["options"] == ["free", "gold"]
    assert updated["after"]["options"] == ["free", "gold", "team"]
