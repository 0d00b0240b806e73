"""Topics with subtopics and localized names."""

from __future__ import annotations

from tests.conftest import World


async def test_everyone_lists_topics_with_their_names_in_every_language(world: World) -> None:
    topics = (await world.get("alice", "/api/v1/topics")).json()
    assert [t["key"] for t in topics] == ["billing", "network"]
    billing = topics[0]
    assert billing["names"] == {"en": "Billing", "ru": "Оплата"}
    assert billing["subtopics"] == [
        {
            "key": "invoices",
            "names": {"en": "Invoices", "ru": "Счета"},
            "position": 0,
            "is_active": True,
        }
    ]


async def test_admin_creates_and_changes_a_topic(world: World) -> None:
    created = await world.post(
        "admin",
        "/api/v1/topics",
        json={
            "key": "storage",
            "names": {"en": "Storage", "ru": "Хранилище"},
            "position": 5,
            "subtopics": [{"key": "s3", "names": {"en": "Object storage"}}],
        },
    )
    assert created.status_code == 201, created.text
    changed = await world.patch(
        "admin",
        "/api/v1/topics/storage",
        json={
            "names": {"en": "Storage & backups"},
            "subtopics": [{"key": "backups", "names": {"en": "Backups"}}],
        },
    )
    assert changed.status_code == 200
    assert changed.json()["names"] == {"en": "Storage & backups"}
    subtopics = {s["key"]: s["is_active"] for s in changed.json()["subtopics"]}
    assert subtopics == {"s3": False, "backups": True}
    # A customer sees only the active subtopic, and may file a ticket under it only.
    listed = {t["key"]: t for t in (await world.get("alice", "/api/v1/topics")).json()}
    assert [s["key"] for s in listed["storage"]["subtopics"]] == ["backups"]
    refused = await world.post(
        "alice",
        "/api/v1/tickets",
        json={"subject": "s", "body": "b", "topic": "storage", "subtopic": "s3"},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "subtopic"


async def test_a_deactivated_topic_disappears_for_customers_and_new_tickets(world: World) -> None:
    off = await world.patch("admin", "/api/v1/topics/network", json={"is_active": False})
    assert off.status_code == 200
    assert [t["key"] for t in (await world.get("alice", "/api/v1/topics")).json()] == ["billing"]
    assert "network" in [t["key"] for t in (await world.get("agent", "/api/v1/topics")).json()]
    refused = await world.post(
        "alice", "/api/v1/tickets", json={"subject": "s", "body": "b", "topic": "network"}
    )
    assert refused.status_code == 422


async def test_topic_input_is_checked(world: World) -> None:
    no_english = await world.post(
        "admin", "/api/v1/topics", json={"key": "x", "names": {"ru": "Икс"}}
    )
    assert no_english.status_code == 422
    assert no_english.json()["errors"][0]["field"] == "names"
    bad_key = await world.post(
        "admin", "/api/v1/topics", json={"key": "Not A Key", "names": {"en": "x"}}
    )
    assert bad_key.status_code == 422
    duplicate = await world.post(
        "admin", "/api/v1/topics", json={"key": "billing", "names": {"en": "B"}}
    )
    assert duplicate.status_code == 409
    unknown = await world.patch("admin", "/api/v1/topics/nope", json={"position": 1})
    assert unknown.status_code == 404
    agent_try = await world.post("agent", "/api/v1/topics", json={"key": "y", "names": {"en": "Y"}})
    assert agent_try.status_code == 403
