"""Merging a ticket into another and splitting comments off into a new one: the
conversation moves with its files and search texts, both tickets point at each other, the
timeline says so, and every refusal is a clear error that changes nothing."""

from __future__ import annotations

from typing import Any

from tests.conftest import World

TICKETS = "/api/v1/tickets"


async def comments_of(world: World, who: str, number: int) -> list[dict[str, Any]]:
    response = await world.get(who, f"{TICKETS}/{number}/comments")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def events_of(world: World, who: str, number: int) -> list[dict[str, Any]]:
    response = await world.get(who, f"{TICKETS}/{number}/events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def ticket(world: World, who: str, number: int) -> dict[str, Any]:
    response = await world.get(who, f"{TICKETS}/{number}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reply(world: World, who: str, number: int, body: str, **extra: Any) -> dict[str, Any]:
    response = await world.post(who, f"{TICKETS}/{number}/comments", json={"body": body, **extra})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def found(world: World, who: str, q: str) -> list[int]:
    response = await world.get(who, TICKETS, params={"q": q})
    assert response.status_code == 200, response.text
    return sorted(t["number"] for t in response.json()["items"])


async def test_a_merge_moves_the_conversation_and_closes_the_ticket_with_a_note(
    world: World,
) -> None:
    upload = await world.upload("owner", "trace.log", b"segfault at 0x0")
    source = await world.create_ticket(
        "owner", subject="Printer on fire", body="Smoke everywhere", files=[upload["id"]]
    )
    target = await world.create_ticket("owner", subject="Office printer broken")
    await reply(world, "agent", source["number"], "Checked the toner", internal=True)
    await reply(world, "owner", source["number"], "Still smoking")

    merged = await world.post(
        "agent", f"{TICKETS}/{source['number']}/merge", json={"into": target["number"]}
    )
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["status"] == "closed"
    assert body["relations"]["merged_into"] == target["number"]

    # The source keeps only the note that says where its conversation went.
    left = await comments_of(world, "owner", source["number"])
    assert len(left) == 1 and f"#{target['number']}" in left[0]["body"]
    assert left[0]["author"]["username"] == "agent"
    # The target has its own and the merged comments, in the order they were written,
    # internal notes for staff only, the file still downloadable by the customer.
    staff_view = [c["body"] for c in await comments_of(world, "agent", target["number"])]
    assert staff_view == ["Smoke everywhere", "Please help.", "Checked the toner", "Still smoking"]
    customer_view = await comments_of(world, "owner", target["number"])
    assert [c["body"] for c in customer_view] == [
        "Smoke everywhere",
        "Please help.",
        "Still smoking",
    ]
    assert [c["moved_from"] for c in customer_view] == [source["number"], None, source["number"]]
    moved_file = customer_view[0]["files"][0]
    download = await world.get("owner", f"/api/v1/files/{moved_file['id']}")
    assert download.status_code == 200 and download.content == b"segfault at 0x0"

    after = await ticket(world, "agent", target["number"])
    assert after["comment_count"] == 4
    assert (await ticket(world, "owner", target["number"]))["comment_count"] == 3
    assert (await ticket(world, "agent", source["number"]))["comment_count"] == 1

    # Search follows the words to their new ticket.
    assert await found(world, "agent", "smoking") == [target["number"]]
    assert await found(world, "agent", "toner") == [target["number"]]
    assert await found(world, "owner", "toner") == []
    assert await found(world, "owner", "trace") == [target["number"]]

    source_events = await events_of(world, "owner", source["number"])
    merged_event = next(e for e in source_events if e["type"] == "ticket.merged")
    assert merged_event["data"]["into"] == target["number"]
    closing = source_events[-1]
    assert closing["type"] == "ticket.status_changed"
    assert closing["data"]["after"] == "closed" and closing["data"]["reason"] == "merged"
    target_event = (await events_of(world, "agent", target["number"]))[-1]
    assert target_event["type"] == "ticket.merged"
    assert target_event["data"]["from"] == source["number"]
    assert target_event["data"]["comments"] == 2


async def test_merges_are_refused_with_clear_errors_that_change_nothing(world: World) -> None:
    first = await world.create_ticket("owner")
    second = await world.create_ticket("owner")
    other_account = await world.create_ticket("gus")
    closed = await world.create_ticket("owner")
    assert (await world.post("agent", f"{TICKETS}/{closed['number']}/close", json={})).is_success
    before = await world.row_counts()

    def merge(who: str, number: int, into: Any) -> Any:
        return world.post(who, f"{TICKETS}/{number}/merge", json={"into": into})

    itself = await merge("agent", first["number"], first["number"])
    assert itself.status_code == 422
    assert itself.json()["errors"][0] == {
        "field": "into",
        "message": "a ticket cannot be merged into itself",
        "code": "same",
    }
    across = await merge("agent", first["number"], other_account["number"])
    assert across.status_code == 422 and across.json()["errors"][0]["code"] == "other_account"
    missing = await merge("agent", first["number"], 999_999)
    assert missing.status_code == 422 and missing.json()["errors"][0]["code"] == "unknown_ticket"
    into_closed = await merge("agent", first["number"], closed["number"])
    assert into_closed.status_code == 409 and "closed" in into_closed.json()["detail"]
    from_closed = await merge("agent", closed["number"], first["number"])
    assert from_closed.status_code == 409
    # Customers never merge, not even their own tickets.
    assert (await merge("owner", first["number"], second["number"])).status_code == 403
    assert (await merge("gus", first["number"], second["number"])).status_code == 403
    malformed = await merge("agent", first["number"], "two")
    assert malformed.status_code == 422
    assert await world.row_counts() == before

    assert (await merge("agent", first["number"], second["number"])).status_code == 200
    # A merged ticket is neither merged again nor merged into: the chain ends at the
    # ticket that holds the conversation.
    again = await merge("agent", first["number"], second["number"])
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"ticket #{first['number']} was merged into #{second['number']} already"
    )
    third = await world.create_ticket("owner")
    into_merged = await merge("agent", third["number"], first["number"])
    assert into_merged.status_code == 409
    assert into_merged.json()["merged_into"] == second["number"]


async def test_a_chain_of_merges_brings_everything_to_the_last_ticket(world: World) -> None:
    a = await world.create_ticket("owner", body="from a")
    b = await world.create_ticket("owner", body="from b")
    c = await world.create_ticket("owner", body="from c")
    for number, into in ((a["number"], b["number"]), (b["number"], c["number"])):
        answer = await world.post("admin", f"{TICKETS}/{number}/merge", json={"into": into})
        assert answer.status_code == 200, answer.text
    bodies = [x["body"] for x in await comments_of(world, "agent", c["number"])]
    assert bodies == ["from a", "from b", "from c"]
    # Each merged ticket keeps its own closing note, naming where it went.
    assert [x["body"] for x in await comments_of(world, "agent", a["number"])] == [
        f"This request was merged into #{b['number']} (Something is wrong); "
        "the conversation continues there."
    ]
    assert [x["body"] for x in await comments_of(world, "agent", b["number"])] == [
        f"This request was merged into #{c['number']} (Something is wrong); "
        "the conversation continues there."
    ]
    assert (await ticket(world, "agent", a["number"]))["relations"]["merged_into"] == b["number"]


async def test_a_split_moves_the_chosen_comments_to_a_new_linked_ticket(world: World) -> None:
    upload = await world.upload("owner", "bill.pdf", b"%PDF-1.4 invoice", "application/pdf")
    source = await world.create_ticket(
        "owner", subject="Two problems", topic="billing", tags=["vip"], priority="high"
    )
    number = source["number"]
    await reply(world, "agent", number, "About the printer: which model?")
    second = await reply(world, "owner", number, "Also my invoice is wrong", files=[upload["id"]])
    note = await reply(world, "agent", number, "Invoice looks doubled", internal=True)

    split = await world.post(
        "agent",
        f"{TICKETS}/{number}/split",
        json={"comment_ids": [note["id"], second["id"]], "subject": "Wrong invoice"},
    )
    assert split.status_code == 201, split.text
    new = split.json()
    assert split.headers["Location"] == f"/api/v1/tickets/{new['number']}"
    assert new["subject"] == "Wrong invoice"
    assert new["relations"]["split_from"] == number
    assert new["requester"]["username"] == "owner"
    assert (new["topic"], new["tags"], new["priority"]) == ("billing", ["vip"], "high")
    assert new["status"] == "open"

    moved = await comments_of(world, "agent", new["number"])
    assert [c["id"] for c in moved] == [second["id"], note["id"]]
    assert [c["ticket_number"] for c in moved] == [new["number"]] * 2
    assert [c["moved_from"] for c in moved] == [number] * 2
    assert [c["body"] for c in await comments_of(world, "owner", new["number"])] == [
        "Also my invoice is wrong"
    ]
    left = [c["body"] for c in await comments_of(world, "agent", number)]
    assert left == ["Please help.", "About the printer: which model?"]
    assert (await ticket(world, "agent", number))["comment_count"] == 2
    assert (await ticket(world, "agent", new["number"]))["comment_count"] == 2
    assert (await ticket(world, "owner", new["number"]))["comment_count"] == 1
    assert await found(world, "agent", "doubled") == [new["number"]]
    assert await found(world, "owner", "invoice") == [new["number"]]
    assert await found(world, "owner", "bill") == [new["number"]]
    assert await found(world, "owner", "printer") == [number]

    created = (await events_of(world, "agent", new["number"]))[0]
    assert created["type"] == "ticket.created"
    assert created["data"]["split_from"] == number
    split_event = (await events_of(world, "owner", number))[-1]
    assert split_event["type"] == "ticket.split"
    assert split_event["data"]["into"] == new["number"]
    assert split_event["data"]["subject"] == "Wrong invoice"
    # The gotten ticket of the source shows no merge; the new one stays visible to the
    # customer side as the source was.
    assert (await world.get("alice", f"{TICKETS}/{new['number']}")).status_code == 404
    assert (await world.get("gus", f"{TICKETS}/{new['number']}")).status_code == 404


async def test_splits_are_refused_with_clear_errors_that_change_nothing(world: World) -> None:
    source = await world.create_ticket("owner")
    number = source["number"]
    first = (await comments_of(world, "agent", number))[0]
    second = await reply(world, "owner", number, "more")
    note = await reply(world, "agent", number, "only staff", internal=True)
    elsewhere = await world.create_ticket("owner")
    foreign = (await comments_of(world, "agent", elsewhere["number"]))[0]
    before = await world.row_counts()

    async def split(who: str, ids: Any, at: int = number) -> Any:
        return await world.post(who, f"{TICKETS}/{at}/split", json={"comment_ids": ids})

    every = await split("agent", [first["id"], second["id"], note["id"]])
    assert every.status_code == 422 and every.json()["errors"][0]["code"] == "all_comments"
    other = await split("agent", [second["id"], foreign["id"]])
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "not_of_ticket"
    assert str(foreign["id"]) in other.json()["detail"]
    unknown = await split("agent", [2_000_000_000])
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["code"] == "not_of_ticket"
    internal_only = await split("agent", [note["id"]])
    assert internal_only.status_code == 422
    assert internal_only.json()["errors"][0]["code"] == "internal"
    assert (await split("agent", [])).status_code == 422
    assert (await split("agent", ["x"])).status_code == 422
    assert (await split("owner", [second["id"]])).status_code == 403
    assert (await split("agent", [second["id"]], at=999_999)).status_code == 404
    assert await world.row_counts() == before

    merged = await world.post(
        "agent", f"{TICKETS}/{number}/merge", json={"into": elsewhere["number"]}
    )
    assert merged.status_code == 200
    refused = await split("agent", [second["id"]])
    assert refused.status_code == 409


async def test_a_split_with_an_idempotency_key_makes_one_ticket(world: World) -> None:
    source = await world.create_ticket("owner")
    extra = await reply(world, "owner", source["number"], "a second matter")
    request = {"comment_ids": [extra["id"]]}
    headers = {"Idempotency-Key": "split-1"}
    first = await world.post(
        "agent", f"{TICKETS}/{source['number']}/split", json=request, headers=headers
    )
    again = await world.post(
        "agent", f"{TICKETS}/{source['number']}/split", json=request, headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["number"] == again.json()["number"]
    assert first.json()["subject"] == source["subject"]


async def test_a_split_off_ticket_keeps_the_custom_field_values(world: World) -> None:
    for field in (
        {"key": "plan", "name": "Plan", "kind": "select", "options": ["free", "gold"]},
        {"key": "modules", "name": "Modules", "kind": "multi_select", "options": ["a", "b"]},
        {"key": "seats", "name": "Seats", "kind": "number", "visible_to_customers": False},
    ):
        made = await world.post("admin", "/api/v1/fields", json=field)
        assert made.status_code == 201, made.text
    values = {"plan": "gold", "modules": ["a", "b"], "seats": 12}
    source = await world.create_ticket(
        "owner", subject="Two matters", fields={"plan": "gold", "modules": ["a", "b"]}
    )
    seats = await world.patch(
        "agent", f"{TICKETS}/{source['number']}", json={"fields": {"seats": 12}}
    )
    assert seats.status_code == 200, seats.text
    second = await reply(world, "owner", source["number"], "And the invoice is wrong")

    split = await world.post(
        "agent", f"{TICKETS}/{source['number']}/split", json={"comment_ids": [second["id"]]}
    )

    assert split.status_code == 201, split.text
    assert split.json()["fields"] == values
    assert (await ticket(world, "agent", source["number"]))["fields"] == values
    assert (await ticket(world, "owner", split.json()["number"]))["fields"] == {
        "plan": "gold",
        "modules": ["a", "b"],
    }
