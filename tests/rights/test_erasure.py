"""Erasing a person: admins only; the person anonymised, their files, tokens and sessions
gone, their tickets kept and saying so; never the last admin; twice is a clear refusal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from helpwire.accounts.models import User
from helpwire.audit.models import AuditEntry
from helpwire.db.session import Database
from helpwire.housekeeping import job_registry
from helpwire.jobs.worker import Worker
from helpwire.notify.models import Delivery
from helpwire.problems import Conflict
from helpwire.rights.erasure import erase_user
from helpwire.settings import Settings
from tests.conftest import World


async def alice_writes(world: World) -> dict[str, Any]:
    """alice files a ticket carrying a file, and is a CC of one of owner's."""
    upload = await world.upload("alice", "passport.txt", b"alice's secret bytes")
    ticket = await world.create_ticket(
        "alice",
        body="Please help. Write to alice@acme.test.",
        files=[upload["id"]],
        context={"user_agent": "AliceBrowser/1.0", "location": "https://app.test/settings"},
    )
    other = await world.create_ticket("owner")
    cc = await world.post(
        "agent", f"/api/v1/tickets/{other['number']}/cc", json={"address": "alice@acme.test"}
    )
    assert cc.status_code == 201, cc.text
    reply = await world.post(
        "agent", f"/api/v1/tickets/{ticket['number']}/comments", json={"body": "We look."}
    )
    assert reply.status_code == 201, reply.text
    return {"ticket": ticket, "other": other, "file": upload}


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")]


async def test_only_admins_erase(world: World) -> None:
    for who in ("agent", "owner", "alice", "acme-portal"):
        refused = await world.post(who, "/api/v1/users/alice/erase")
        assert refused.status_code == 403, (who, refused.text)
    assert (await world.post("admin", "/api/v1/users/nobody/erase")).status_code == 404
    assert (await world.get("alice", "/api/v1/me")).status_code == 200


async def test_erasing_a_customer_anonymises_them_and_keeps_their_tickets(
    world: World, database: Database, settings: Settings, app: FastAPI
) -> None:
    made = await alice_writes(world)
    number = made["ticket"]["number"]
    keyed = await world.post(
        "alice",
        f"/api/v1/tickets/{number}/comments",
        json={"body": "Once only."},
        headers={"Idempotency-Key": "alice-1"},
    )
    assert keyed.status_code == 201, keyed.text
    assert (await world.row_counts())["idempotency_keys"] == 1
    assert len(stored_files(settings.files_dir)) == 1

    answer = await world.post("admin", "/api/v1/users/alice/erase")
    assert answer.status_code == 200, answer.text
    erased = answer.json()
    anonymous = erased["username"]
    assert anonymous.startswith("erased-") and "alice" not in anonymous
    assert erased["files_deleted"] == 1 and erased["tokens_revoked"] == 1
    assert erased["tickets"] == 2  # the one she filed, the one she was a CC of

    assert (await world.row_counts())["idempotency_keys"] == 0
    # Her token is dead; her profile holds nothing personal.
    assert (await world.get("alice", "/api/v1/me")).status_code == 401
    profile = (await world.get("admin", f"/api/v1/users/{anonymous}")).json()
    assert profile["email"] is None and profile["real_name"] == "erased user"
    assert profile["is_active"] is False and profile["erased_at"] is not None
    assert profile["projects"] == [] and profile["has_password"] is False

    # The ticket stays for the organisation, the requester shown as an erased user.
    shown = (await world.get("agent", f"/api/v1/tickets/{number}")).json()
    assert shown["requester"]["real_name"] == "erased user"
    assert shown["requester"]["email"] is None
    assert shown["context"]["user_agent"] is None
    assert shown["context"]["location"] == "https://app.test/settings"
    comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    assert comments[0]["author"]["real_name"] == "erased user"
    # The words of the conversation are kept, all but her address.
    assert comments[0]["body"] == "Please help. Write to erased@invalid."
    assert "alice@acme.test" not in comments[0]["body_html"]
    assert comments[0]["files"] == []
    file_id = made["file"]["id"]
    assert (await world.get("agent", f"/api/v1/files/{file_id}")).status_code == 404
    for word in ("passport", "alice@acme.test"):
        found = await world.get("agent", "/api/v1/tickets", params={"q": word})
        assert found.json()["items"] == [], word
    assert (await world.get("agent", "/api/v1/tickets", params={"q": "write"})).json()["items"]

    # Her address is no CC any more, and the timelines of both tickets say why.
    other = made["other"]["number"]
    assert (await world.get("agent", f"/api/v1/tickets/{other}/cc")).json() == []
    for ticket_number, role in ((number, "requester"), (other, "participant")):
        events = (await world.get("agent", f"/api/v1/tickets/{ticket_number}/events")).json()
        erasures = [e for e in events["items"] if e["type"] == "person.erased"]
        assert [e["data"] for e in erasures] == [{"person": anonymous, "role": role}]
        customer_view = await world.get("owner", f"/api/v1/tickets/{ticket_number}/events")
        assert "person.erased" not in customer_view.text

    # The bytes go once the erasure has committed, by the worker.
    await Worker(database, job_registry(settings)).run_once()
    assert stored_files(settings.files_dir) == []

    # The audit log records the act, and says nothing of her any more.
    log = (await world.get("admin", "/api/v1/audit", params={"target_type": "user"})).json()
    assert log["items"][0]["action"] == "user.erased"
    assert log["items"][0]["actor"] == "admin"
    assert log["items"][0]["target_key"] == anonymous
    async with database.reader() as session:
        texts = [
            str((e.target_key, e.before, e.after))
            for e in await session.scalars(select(AuditEntry))
        ]
    assert not any("alice" in text or "Alice A" in text for text in texts)


async def test_erasing_twice_is_refused_clearly(world: World) -> None:
    first = await world.post("admin", "/api/v1/users/carol/erase")
    assert first.status_code == 200, first.text
    anonymous = first.json()["username"]
    again = await world.post("admin", f"/api/v1/users/{anonymous}/erase")
    assert again.status_code == 409
    assert "erased already" in again.json()["detail"]
    by_old_name = await world.post("admin", "/api/v1/users/carol/erase")
    assert by_old_name.status_code == 404


async def test_no_one_erases_themselves_or_the_last_admin(world: World, database: Database) -> None:
    self_erase = await world.post("admin", "/api/v1/users/admin/erase")
    assert self_erase.status_code == 409
    assert (await world.get("admin", "/api/v1/me")).status_code == 200

    # From the command line (no admin asking), the only active admin is still kept.
    async with database.writing() as session:
        admin = await session.scalar(select(User).where(User.username == "admin"))
        assert admin is not None
        try:
            await erase_user(session, user=admin, by=None)
        except Conflict as refused:
            assert "last active admin" in str(refused)
        else:
            raise AssertionError("the last admin was erased")

    # With a second admin, one may erase the other, and the erasure is all or nothing.
    made = await world.post("admin", "/api/v1/users", json={"username": "admin2", "role": "admin"})
    assert made.status_code == 201, made.text
    token = await world.post("admin", "/api/v1/tokens", json={"username": "admin2"})
    world.tokens["admin2"] = token.json()["token"]
    erased = await world.post("admin2", "/api/v1/users/admin/erase")
    assert erased.status_code == 200, erased.text
    # The person was called "admin"; their role, also "admin", is no name of theirs.
    log = await world.get("admin2", "/api/v1/audit", params={"target_type": "user"})
    entry = log.json()["items"][0]
    assert entry["action"] == "user.erased" and entry["actor"] == "admin2"
    assert entry["before"]["username"] == erased.json()["username"]
    assert entry["before"]["role"] == "admin"
    assert (await world.get("admin", "/api/v1/me")).status_code == 401


async def test_an_erased_agent_leaves_no_name_in_timelines_or_notifications(
    world: World, database: Database
) -> None:
    made = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
    )
    assert made.status_code == 201, made.text
    number = (await world.create_ticket("owner"))["number"]
    assigned = await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent2"})
    assert assigned.status_code == 200, assigned.text
    assert "agent2" in (await world.get("agent", f"/api/v1/tickets/{number}/events")).text

    erased = await world.post("admin", "/api/v1/users/agent2/erase")
    assert erased.status_code == 200, erased.text
    anonymous = erased.json()["username"]

    events = (await world.get("agent", f"/api/v1/tickets/{number}/events")).json()["items"]
    assert "agent2" not in str(events) and "Kim Agent" not in str(events)
    assert any(e["data"].get("after") == anonymous for e in events)
    async with database.reader() as session:
        payloads = [str(d.payload) for d in await session.scalars(select(Delivery))]
    assert payloads and not any("agent2" in p or "Kim Agent" in p for p in payloads)
    # Names of kinds are never taken for a person's: roles and types stay.
    assert any("'role': 'agent'" in p for p in payloads)
