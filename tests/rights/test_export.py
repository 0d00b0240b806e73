"""A person's data as a zip: admins export anyone, each person themselves; the zip holds
what is kept about them and their files' bytes, never a secret, and has limits."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from fastapi import FastAPI

from tests.conftest import World


def opened(content: bytes) -> tuple[dict[str, Any], zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    document: dict[str, Any] = json.loads(archive.read("person.json"))
    return document, archive


async def test_admins_export_anyone_and_people_themselves(world: World) -> None:
    upload = await world.upload("alice", "notes.txt", b"alice's own bytes")
    ticket = await world.create_ticket("alice", subject="My printer", files=[upload["id"]])
    number = ticket["number"]
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Looking."})
    await world.post(
        "agent",
        f"/api/v1/tickets/{number}/comments",
        json={"body": "staff only words", "internal": True},
    )

    answer = await world.get("admin", "/api/v1/users/alice/export")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert "helpwire-export-alice.zip" in answer.headers["content-disposition"]
    document, archive = opened(answer.content)
    assert document["profile"]["email"] == "alice@acme.test"
    assert document["memberships"] == {"projects": ["p1"], "groups": []}
    (requested,) = document["tickets_requested"]
    assert requested["number"] == number and requested["subject"] == "My printer"
    assert [c["body"] for c in requested["conversation"]] == ["Please help.", "Looking."]
    assert "staff only words" not in answer.content.decode("latin-1")
    assert [c["ticket"] for c in document["comments_written"]] == [number]
    assert document["api_tokens"][0]["label"] == "tests"
    assert any(e["type"] == "ticket.created" for e in document["events_made"])
    (listed,) = document["files"]
    assert archive.read(listed["path"]) == b"alice's own bytes"
    # No token, hash or password anywhere in it.
    text = archive.read("person.json").decode()
    assert world.tokens["alice"] not in text
    assert "hash" not in text and "$argon2" not in text

    own = await world.get("alice", "/api/v1/users/alice/export")
    assert own.status_code == 200
    assert opened(own.content)[0]["profile"]["username"] == "alice"

    # Who took a copy of whose data is in the audit log.
    log = await world.get("admin", "/api/v1/audit", params={"target_type": "user"})
    exports = [e for e in log.json()["items"] if e["action"] == "user.exported"]
    assert [(e["actor"], e["target_key"]) for e in exports] == [
        ("alice", "alice"),
        ("admin", "alice"),
    ]
    assert exports[1]["after"] == {"tickets": 1, "comments": 1, "files": 1, "bytes": 17}


async def test_an_admins_export_holds_no_one_elses_data(world: World) -> None:
    changed = await world.patch("admin", "/api/v1/users/bob", json={"real_name": "Robert B"})
    assert changed.status_code == 200
    answer = await world.get("admin", "/api/v1/users/admin/export")
    document, _archive = opened(answer.content)
    (made,) = [e for e in document["audit_log"] if e["action"] == "user.updated"]
    assert made["target_key"] == "bob" and "after" not in made
    text = json.dumps(document)
    assert "Robert B" not in text and "bob@acme.test" not in text


async def test_no_one_else_exports_a_person(world: World) -> None:
    for who in ("agent", "owner", "bob", "acme-portal"):
        refused = await world.get(who, "/api/v1/users/alice/export")
        assert refused.status_code == 403, who
    assert (await world.get("admin", "/api/v1/users/nobody/export")).status_code == 404
    assert (await world.client.get("/api/v1/users/alice/export")).status_code == 401
    # An application speaking for a person does not get their data.
    for_carol = await world.get(
        "acme-portal", "/api/v1/users/carol/export", headers={"On-Behalf-Of": "carol"}
    )
    assert for_carol.status_code == 403
    assert (await world.get("carol", "/api/v1/users/carol/export")).status_code == 200


async def test_an_export_past_its_limit_is_refused_whole(world: World, app: FastAPI) -> None:
    await world.upload("alice", "big.bin", b"x" * 2048)
    app.state.settings.export_max_bytes = 1024
    refused = await world.get("admin", "/api/v1/users/alice/export")
    assert refused.status_code == 413
    assert "HELPWIRE_EXPORT_MAX_BYTES" in refused.json()["detail"]
    app.state.settings.export_max_bytes = 4096
    assert (await world.get("admin", "/api/v1/users/alice/export")).status_code == 200
