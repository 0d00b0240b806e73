"""A merge tells the merged ticket's requester by mail where the conversation went, and
the CC addresses go with the conversation to the ticket it moved to (merge and split)."""

from __future__ import annotations

from email.message import Message

from tests.conftest import World
from tests.mail.conftest import Outbox


def _plain(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


async def test_a_merge_mails_the_requester_and_cc_where_the_conversation_went(
    world: World, outbox: Outbox
) -> None:
    source = await world.create_ticket("alice", subject="VPN down")
    target = await world.create_ticket("owner", subject="Network outage")
    added = await world.post(
        "agent", f"/api/v1/tickets/{source['number']}/cc", json={"address": "it@acme.test"}
    )
    assert added.status_code == 201, added.text

    merged = await world.post(
        "agent", f"/api/v1/tickets/{source['number']}/merge", json={"into": target["number"]}
    )
    assert merged.status_code == 200, merged.text
    sent = await outbox.expect(2)
    note = next(message for _to, message in sent if "merged into" in _plain(message))
    assert note["To"] == "alice@acme.test" and note["Cc"] == "it@acme.test"
    assert note["Subject"] == f"[#{source['number']}] VPN down"
    assert f"merged into #{target['number']} (Network outage)" in _plain(note)
    closed = next(message for _to, message in sent if message is not note)
    assert "is now: closed" in _plain(closed)

    # The address, and alice (whose ticket it was, and who may not see owner's ticket in
    # the portal), hear of the conversation where it continues.
    cc = await world.get("agent", f"/api/v1/tickets/{target['number']}/cc")
    assert [row["address"] for row in cc.json()] == ["it@acme.test", "alice@acme.test"]
    assert cc.json()[0]["added_by"] == "agent"
    events = (await world.get("agent", f"/api/v1/tickets/{target['number']}/events")).json()
    cc_change = events["items"][-1]["data"]["changes"]["cc"]
    assert cc_change == {"before": [], "after": ["it@acme.test", "alice@acme.test"]}
    reply = await world.post(
        "agent", f"/api/v1/tickets/{target['number']}/comments", json={"body": "Fixed now."}
    )
    assert reply.status_code == 201
    [*_earlier, (recipients, _message)] = await outbox.expect(3)
    assert recipients == ["owner@acme.test", "it@acme.test", "alice@acme.test"]


async def test_merging_one_requester_s_tickets_adds_no_cc(world: World, outbox: Outbox) -> None:
    source = await world.create_ticket("owner")
    target = await world.create_ticket("owner")
    merged = await world.post(
        "agent", f"/api/v1/tickets/{source['number']}/merge", json={"into": target["number"]}
    )
    assert merged.status_code == 200, merged.text
    assert (await world.get("agent", f"/api/v1/tickets/{target['number']}/cc")).json() == []


async def test_a_split_copies_the_cc_addresses_to_the_new_ticket(
    world: World, outbox: Outbox
) -> None:
    source = await world.create_ticket("owner")
    more = await world.post(
        "owner", f"/api/v1/tickets/{source['number']}/comments", json={"body": "Another issue"}
    )
    await world.post(
        "agent", f"/api/v1/tickets/{source['number']}/cc", json={"address": "cfo@acme.test"}
    )
    split = await world.post(
        "agent",
        f"/api/v1/tickets/{source['number']}/split",
        json={"comment_ids": [more.json()["id"]]},
    )
    assert split.status_code == 201, split.text
    new = split.json()["number"]
    for number in (source["number"], new):
        cc = await world.get("agent", f"/api/v1/tickets/{number}/cc")
        assert [row["address"] for row in cc.json()] == ["cfo@acme.test"], number
    followers = await world.get("agent", f"/api/v1/tickets/{new}/followers")
    assert followers.json()["cc"] == ["cfo@acme.test"]
