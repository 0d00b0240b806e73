"""A ticket's life through the native API: filing, conversation, status moves, ratings,
escalation, concurrency control, and the timeline that records it all."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.conftest import World

PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["type"] == f"/problems/{slug}"
    assert body["status"] == status
    assert body["detail"]
    return body


def parse_time(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert moment.utcoffset() == timedelta(0), f"{value} is not UTC"
    return moment


async def ticket(world: World, who: str, number: int) -> dict[str, Any]:
    response = await world.get(who, f"/api/v1/tickets/{number}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def reply(
    world: World, who: str, number: int, body: str = "A reply.", **fields: Any
) -> dict[str, Any]:
    response = await world.post(
        who, f"/api/v1/tickets/{number}/comments", json={"body": body, **fields}
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


async def set_status(world: World, number: int, status: str, who: str = "agent") -> dict[str, Any]:
    response = await world.patch(who, f"/api/v1/tickets/{number}", json={"status": status})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def timeline(world: World, who: str, number: int) -> list[dict[str, Any]]:
    response = await world.get(who, f"/api/v1/tickets/{number}/events")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- filing -------------------------------------------------------------------------------


async def test_a_ticket_filed_with_context_and_files_comes_back_complete(world: World) -> None:
    content = b"Traceback: the printer caught fire\n"
    upload = await world.upload("alice", "printer.log", content)
    before = datetime.now(UTC)
    response = await world.post(
        "alice",
        "/api/v1/tickets",
        json={
            "subject": "  Printer on fire  ",
            "body": "It started smoking after the update.",
            "type": "incident",
            "priority": "high",
            "topic": "billing",
            "subtopic": "invoices",
            "tags": ["Outage", "eu-west"],
            "files": [upload["id"]],
            "access_level": "project_users",
            "projects": ["p1"],
            "attributes": {"plan": "pro", "seats": 12, "flags": {"beta": True}},
            "context": {
                "request_id": "req-123",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
                "location": "https://portal.acme.test/billing?tab=invoices",
                "info": {"course": "math-101", "page": 3},
            },
            "tp_id": "JIRA-7",
            "external_url": "https://jira.acme.test/browse/JIRA-7",
        },
    )
    after = datetime.now(UTC)
    assert response.status_code == 201, response.text
    created = response.json()

    assert created["number"] == 1
    assert str(uuid.UUID(created["uid"])) == created["uid"]
    assert created["subject"] == "Printer on fire"
    assert created["status"] == "new"
    assert created["priority"] == "high"
    assert created["type"] == "incident"
    assert created["topic"] == "billing"
    assert created["subtopic"] == "invoices"
    assert sorted(created["tags"]) == ["eu-west", "outage"]
    assert created["requester"] == {
        "username": "alice",
        "real_name": "Alice A",
        "email": "alice@acme.test",
        "role": "customer",
    }
    assert created["assignee"] is None
    assert created["account"] == "acme"
    assert created["projects"] == ["p1"]
    assert created["access_level"] == "project_users"
    context = dict(created["context"])
    assert context.pop("service", None) is None  # filed by alice, not by a service for her
    assert context == {
        "request_id": "req-123",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "location": "https://portal.acme.test/billing?tab=invoices",
        "info": {"course": "math-101", "page": 3},
        "via": "api",
    }
    assert created["attributes"] == {"plan": "pro", "seats": 12, "flags": {"beta": True}}
    assert created["relations"] == {"follow_up_of": None, "split_from": None, "merged_into": None}
    assert created["tp_id"] == "JIRA-7"
    assert created["external_url"] == "https://jira.acme.test/browse/JIRA-7"
    assert created["rating"] is None
    assert created["escalated"] is False
    assert created["comment_count"] == 1
    assert created["read"] == {"customer": True, "agent": False}
    created_at = parse_time(created["created_at"])
    assert before <= created_at <= after
    assert parse_time(created["updated_at"]) == created_at
    assert created["solved_at"] is None
    assert created["closed_at"] is None

    assert response.headers["location"] == "/api/v1/tickets/1"
    assert response.headers["etag"]

    # Reading it back gives the very same ticket, tags in their stored order.
    got = await world.get("alice", "/api/v1/tickets/1")
    assert got.status_code == 200
    assert got.headers["etag"] == response.headers["etag"]
    assert got.json() == created
    assert got.json()["tags"] == ["eu-west", "outage"]

    # The body is the first comment, carrying the file.
    comments = (await world.get("alice", "/api/v1/tickets/1/comments")).json()["items"]
    assert len(comments) == 1
    first = comments[0]
    assert first["body"] == "It started smoking after the update."
    assert first["author"]["username"] == "alice"
    assert first["internal"] is False
    assert [(f["id"], f["filename"], f["size"], f["sha256"]) for f in first["files"]] == [
        (upload["id"], "printer.log", len(content), hashlib.sha256(content).hexdigest())
    ]


async def test_the_request_id_header_is_kept_when_the_body_gives_none(world: World) -> None:
    response = await world.post(
        "alice",
        "/api/v1/tickets",
        json={"subject": "Hi", "body": "Hello"},
        headers={"X-Request-ID": "portal-req-42"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["context"]["request_id"] == "portal-req-42"
    assert response.headers["x-request-id"] == "portal-req-42"

    stored = await ticket(world, "agent", response.json()["number"])
    assert stored["context"]["request_id"] == "portal-req-42"
    assert stored["context"]["via"] == "api"

    # One given in the body wins over the header.
    response = await world.post(
        "alice",
        "/api/v1/tickets",
        json={"subject": "Hi", "body": "Hello", "context": {"request_id": "from-body"}},
        headers={"X-Request-ID": "from-header"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["context"]["request_id"] == "from-body"


# --- conversation -------------------------------------------------------------------------


async def test_an_agent_reply_opens_a_new_ticket(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    answer = await reply(world, "agent", number, "Looking into it.")
    assert answer["author"]["username"] == "agent"
    assert answer["internal"] is False
    assert answer["ticket_number"] == number

    after = await ticket(world, "alice", number)
    assert after["status"] == "open"
    assert after["comment_count"] == 2
    assert after["read"] == {"customer": False, "agent": True}


async def test_an_internal_note_leaves_the_status_alone_and_stays_hidden_from_the_customer(
    world: World,
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    note = await reply(world, "agent", number, "Customer is on the legacy plan.", internal=True)
    assert note["internal"] is True

    assert (await ticket(world, "agent", number))["status"] == "new"
    staff_view = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()["items"]
    customer_view = (await world.get("alice", f"/api/v1/tickets/{number}/comments")).json()["items"]
    assert [c["body"] for c in staff_view] == ["Please help.", "Customer is on the legacy plan."]
    assert [c["body"] for c in customer_view] == ["Please help."]
    assert (await world.get("alice", f"/api/v1/comments/{note['id']}")).status_code == 404

    # Customers cannot write internal notes at all.
    response = await world.post(
        "alice", f"/api/v1/tickets/{number}/comments", json={"body": "psst", "internal": True}
    )
    assert_problem(response, 403, "forbidden")
    assert (await ticket(world, "agent", number))["comment_count"] == 2


async def test_a_customer_reply_reopens_a_pending_or_solved_ticket_but_not_one_on_hold(
    world: World,
) -> None:
    for waiting in ("pending", "solved"):
        number = (await world.create_ticket("alice"))["number"]
        await reply(world, "agent", number, "Could you try again?")
        moved = await set_status(world, number, waiting)
        assert moved["status"] == waiting

        await reply(world, "alice", number, "Still broken.")
        after = await ticket(world, "alice", number)
        assert after["status"] == "open", waiting
        assert after["solved_at"] is None
        last = (await timeline(world, "agent", number))[-1]
        assert last["type"] == "ticket.status_changed"
        assert last["data"]["before"] == waiting
        assert last["data"]["after"] == "open"
        assert last["actor"]["username"] == "alice"

    on_hold = (await world.create_ticket("alice"))["number"]
    await set_status(world, on_hold, "hold")
    await reply(world, "alice", on_hold, "Any news?")
    assert (await ticket(world, "alice", on_hold))["status"] == "hold"


# --- closing, reopening, rating -----------------------------------------------------------


async def test_closing_with_a_score_from_one_to_five_rates_the_ticket(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await reply(world, "agent", number, "Fixed.")
    for score in (0, 6):
        refused = await world.post(
            "alice", f"/api/v1/tickets/{number}/close", json={"score": score}
        )
        body = assert_problem(refused, 422, "validation-error")
        assert body["errors"][0]["field"] == "score"
    assert (await ticket(world, "alice", number))["status"] == "open"

    response = await world.post(
        "alice", f"/api/v1/tickets/{number}/close", json={"score": 5, "comment": "Quick!"}
    )
    assert response.status_code == 200, response.text
    closed = response.json()
    assert closed["status"] == "closed"
    assert closed["rating"]["score"] == 5
    assert closed["rating"]["comment"] == "Quick!"
    assert closed["rating"]["rated_at"] is not None
    assert closed["closed_at"] is not None
    assert closed["solved_at"] is not None
    assert response.headers["etag"]
    assert await ticket(world, "alice", number) == closed


async def test_closing_without_a_score_leaves_it_unrated_and_closing_twice_conflicts(
    world: World,
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    response = await world.post("agent", f"/api/v1/tickets/{number}/close", json={})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "closed"
    assert response.json()["rating"] is None
    again = await world.post("alice", f"/api/v1/tickets/{number}/close", json={"score": 5})
    assert_problem(again, 409, "illegal-transition")
    assert (await ticket(world, "alice", number))["rating"] is None


async def test_a_closed_ticket_takes_no_comments(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await world.post("alice", f"/api/v1/tickets/{number}/close", json={})
    counts = await world.row_counts()
    for who in ("alice", "agent"):
        response = await world.post(
            who, f"/api/v1/tickets/{number}/comments", json={"body": "One more thing"}
        )
        body = assert_problem(response, 409, "illegal-transition")
        assert "closed" in body["detail"]
    assert await world.row_counts() == counts
    assert (await ticket(world, "alice", number))["comment_count"] == 1


async def test_reopen_brings_a_solved_or_closed_ticket_back_with_the_reason_as_a_comment(
    world: World,
) -> None:
    for finished in ("solved", "closed"):
        number = (await world.create_ticket("alice"))["number"]
        await set_status(world, number, finished)
        response = await world.post(
            "alice", f"/api/v1/tickets/{number}/reopen", json={"body": "It broke again."}
        )
        assert response.status_code == 200, response.text
        reopened = response.json()
        assert reopened["status"] == "open"
        assert reopened["closed_at"] is None
        assert reopened["solved_at"] is None
        assert reopened["comment_count"] == 2
        comments = (await world.get("alice", f"/api/v1/tickets/{number}/comments")).json()
        assert comments["items"][-1]["body"] == "It broke again."
        assert comments["items"][-1]["author"]["username"] == "alice"


async def test_reopen_needs_a_reason_and_a_solved_or_closed_ticket(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await world.post("alice", f"/api/v1/tickets/{number}/close", json={})
    for payload in ({}, {"body": ""}, {"body": "   "}):
        response = await world.post("alice", f"/api/v1/tickets/{number}/reopen", json=payload)
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["field"] == "body"
    assert (await ticket(world, "alice", number))["status"] == "closed"

    for status in ("new", "open", "pending", "hold"):
        number = (await world.create_ticket("alice"))["number"]
        if status != "new":
            await set_status(world, number, status)
        counts = await world.row_counts()
        response = await world.post(
            "alice", f"/api/v1/tickets/{number}/reopen", json={"body": "Reopen please"}
        )
        body = assert_problem(response, 409, "illegal-transition")
        assert status in body["detail"]
        assert await world.row_counts() == counts
        assert (await ticket(world, "alice", number))["status"] == status


async def test_a_customer_rates_a_ticket_once_it_is_solved(world: World) -> None:
    for status in ("new", "open", "pending", "hold"):
        number = (await world.create_ticket("alice"))["number"]
        if status != "new":
            await set_status(world, number, status)
        response = await world.post("alice", f"/api/v1/tickets/{number}/rating", json={"score": 5})
        assert_problem(response, 409, "illegal-transition")
        assert (await ticket(world, "alice", number))["rating"] is None

    await set_status(world, number, "solved")
    response = await world.post(
        "alice", f"/api/v1/tickets/{number}/rating", json={"score": 4, "comment": "Good"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rating"]["score"] == 4
    assert response.json()["rating"]["comment"] == "Good"
    assert response.json()["status"] == "solved"

    # Changing one's mind replaces the rating.
    again = await world.post("alice", f"/api/v1/tickets/{number}/rating", json={"score": 2})
    assert again.status_code == 200, again.text
    assert again.json()["rating"]["score"] == 2
    assert again.json()["rating"]["comment"] is None
    assert (await ticket(world, "agent", number))["rating"]["score"] == 2


async def test_staff_cannot_rate_a_ticket(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await set_status(world, number, "solved")
    for who in ("agent", "admin"):
        response = await world.post(who, f"/api/v1/tickets/{number}/rating", json={"score": 5})
        assert_problem(response, 403, "forbidden")
    closing = await world.post("agent", f"/api/v1/tickets/{number}/close", json={"score": 5})
    assert_problem(closing, 403, "forbidden")
    assert (await ticket(world, "alice", number))["rating"] is None
    assert (await ticket(world, "alice", number))["status"] == "solved"


async def test_a_customer_rates_a_public_reply_from_support_plus_or_minus_one(
    world: World,
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    answer = await reply(world, "agent", number, "Restart the router.")
    for score in (0, 2, -2):
        refused = await world.post(
            "alice", f"/api/v1/comments/{answer['id']}/rating", json={"score": score}
        )
        body = assert_problem(refused, 422, "validation-error")
        assert body["errors"][0]["field"] == "score"
    assert (await world.get("alice", f"/api/v1/comments/{answer['id']}")).json()["rating"] is None

    response = await world.post(
        "alice", f"/api/v1/comments/{answer['id']}/rating", json={"score": 1, "comment": "Helped"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["rating"]["score"] == 1
    assert response.json()["rating"]["comment"] == "Helped"

    down = await world.post("alice", f"/api/v1/comments/{answer['id']}/rating", json={"score": -1})
    assert down.status_code == 200, down.text
    assert down.json()["rating"]["score"] == -1
    stored = (await world.get("agent", f"/api/v1/comments/{answer['id']}")).json()
    assert stored["rating"]["score"] == -1


async def test_own_comments_notes_and_staff_votes_cannot_be_rated(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    own = await reply(world, "alice", number, "Also, the fan is loud.")
    answer = await reply(world, "agent", number, "Restart the router.")
    note = await reply(world, "agent", number, "Secret", internal=True)

    mine = await world.post("alice", f"/api/v1/comments/{own['id']}/rating", json={"score": 1})
    assert_problem(mine, 409, "illegal-transition")
    staff = await world.post("agent2", f"/api/v1/comments/{answer['id']}/rating", json={"score": 1})
    assert_problem(staff, 403, "forbidden")
    hidden = await world.post("alice", f"/api/v1/comments/{note['id']}/rating", json={"score": 1})
    assert_problem(hidden, 404, "not-found")
    for comment in (own, answer, note):
        stored = (await world.get("agent", f"/api/v1/comments/{comment['id']}")).json()
        assert stored["rating"] is None


# --- escalation ---------------------------------------------------------------------------


async def test_escalation_makes_a_ticket_urgent_once(world: World) -> None:
    number = (await world.create_ticket("alice", priority="low"))["number"]
    response = await world.post("alice", f"/api/v1/tickets/{number}/escalate")
    assert response.status_code == 200, response.text
    assert response.json()["priority"] == "urgent"
    assert response.json()["escalated"] is True
    assert (await ticket(world, "agent", number))["escalated"] is True

    again = await world.post("agent", f"/api/v1/tickets/{number}/escalate")
    assert_problem(again, 409, "illegal-transition")
    events = [e for e in await timeline(world, "agent", number) if e["type"] == "ticket.escalated"]
    assert len(events) == 1
    assert events[0]["actor"]["username"] == "alice"


async def test_an_already_urgent_or_closed_ticket_cannot_be_escalated(world: World) -> None:
    urgent = (await world.create_ticket("alice", priority="urgent"))["number"]
    assert_problem(
        await world.post("agent", f"/api/v1/tickets/{urgent}/escalate"), 409, "illegal-transition"
    )
    assert (await ticket(world, "agent", urgent))["escalated"] is False

    closed = (await world.create_ticket("alice"))["number"]
    await world.post("alice", f"/api/v1/tickets/{closed}/close", json={})
    assert_problem(
        await world.post("agent", f"/api/v1/tickets/{closed}/escalate"), 409, "illegal-transition"
    )
    assert (await ticket(world, "agent", closed))["priority"] == "normal"


# --- status moves by PATCH ----------------------------------------------------------------


async def test_staff_move_a_ticket_through_the_working_states(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    for status in ("open", "pending", "hold", "open", "solved"):
        assert (await set_status(world, number, status))["status"] == status
    solved = await ticket(world, "agent", number)
    assert solved["solved_at"] is not None
    assert solved["closed_at"] is None

    pending = await set_status(world, number, "pending")
    assert pending["solved_at"] is None

    closed = await set_status(world, number, "closed")
    assert closed["closed_at"] is not None
    assert closed["solved_at"] is not None


async def test_illegal_status_moves_by_patch_are_refused_and_change_nothing(world: World) -> None:
    # No ticket goes back to new.
    for start in ("open", "pending", "hold", "solved", "closed"):
        number = (await world.create_ticket("alice"))["number"]
        await set_status(world, number, start)
        response = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "new"})
        assert_problem(response, 409, "illegal-transition")
        assert (await ticket(world, "agent", number))["status"] == start

    # A closed ticket comes back only by reopen, and a refused move takes the rest with it.
    closed = number
    for status in ("open", "pending", "solved"):
        response = await world.patch(
            "agent",
            f"/api/v1/tickets/{closed}",
            json={"subject": "Renamed", "priority": "high", "status": status},
        )
        body = assert_problem(response, 409, "illegal-transition")
        assert "reopen" in body["detail"]
    after = await ticket(world, "agent", closed)
    assert after["status"] == "closed"
    assert after["subject"] == "Something is wrong"
    assert after["priority"] == "normal"


async def test_a_patch_with_an_unknown_field_or_status_is_refused_naming_it(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    unknown_status = await world.patch(
        "agent", f"/api/v1/tickets/{number}", json={"status": "done"}
    )
    body = assert_problem(unknown_status, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["status"]
    unknown_field = await world.patch("agent", f"/api/v1/tickets/{number}", json={"colour": "red"})
    body = assert_problem(unknown_field, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["colour"]


# --- ETags --------------------------------------------------------------------------------


async def test_patch_with_a_stale_etag_is_refused_and_changes_nothing(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    first = await world.get("agent", f"/api/v1/tickets/{number}")
    stale = first.headers["etag"]

    ok = await world.patch(
        "agent",
        f"/api/v1/tickets/{number}",
        json={"subject": "Printer smokes"},
        headers={"If-Match": stale},
    )
    assert ok.status_code == 200, ok.text
    fresh = ok.headers["etag"]
    assert fresh != stale
    assert ok.json()["subject"] == "Printer smokes"

    counts = await world.row_counts()
    refused = await world.patch(
        "agent",
        f"/api/v1/tickets/{number}",
        json={"subject": "Printer explodes"},
        headers={"If-Match": stale},
    )
    assert_problem(refused, 412, "precondition-failed")
    assert await world.row_counts() == counts
    now = await world.get("agent", f"/api/v1/tickets/{number}")
    assert now.json()["subject"] == "Printer smokes"
    assert now.headers["etag"] == fresh

    # The current ETag, also among others, or *, is accepted; If-Match compares strongly,
    # so a weak tag never matches (RFC 9110).
    current = (await world.get("agent", f"/api/v1/tickets/{number}")).headers["etag"]
    weak = await world.patch(
        "agent",
        f"/api/v1/tickets/{number}",
        json={"tags": ["weak"]},
        headers={"If-Match": f"W/{current}"},
    )
    assert weak.status_code == 412
    answer = await world.patch(
        "agent",
        f"/api/v1/tickets/{number}",
        json={"tags": ["listed"]},
        headers={"If-Match": f'"nope", {current}'},
    )
    assert answer.status_code == 200, answer.text
    star = await world.patch(
        "agent", f"/api/v1/tickets/{number}", json={"priority": "low"}, headers={"If-Match": "*"}
    )
    assert star.status_code == 200, star.text


async def test_if_none_match_answers_not_modified_until_the_ticket_changes(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    etag = (await world.get("alice", f"/api/v1/tickets/{number}")).headers["etag"]

    same = await world.get("alice", f"/api/v1/tickets/{number}", headers={"If-None-Match": etag})
    assert same.status_code == 304
    assert same.content == b""
    assert same.headers["etag"] == etag

    await reply(world, "agent", number)
    changed = await world.get("alice", f"/api/v1/tickets/{number}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["status"] == "open"

    # Every later change gives a new ETag too.
    seen = {etag, changed.headers["etag"]}
    escalated = await world.post("agent", f"/api/v1/tickets/{number}/escalate")
    seen.add(escalated.headers["etag"])
    closed = await world.post("alice", f"/api/v1/tickets/{number}/close", json={"score": 3})
    seen.add(closed.headers["etag"])
    assert len(seen) == 4


# --- assignee and who may change what -----------------------------------------------------


async def test_a_ticket_is_assigned_to_agents_or_admins_only(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    for who in ("alice", "acme-portal", "nobody-at-all"):
        response = await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": who})
        body = assert_problem(response, 422, "validation-error")
        assert body["errors"][0]["field"] == "assignee"
        assert who in body["detail"]
    assert (await ticket(world, "agent", number))["assignee"] is None

    response = await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent2"})
    assert response.status_code == 200, response.text
    assert response.json()["assignee"] == {
        "username": "agent2",
        "real_name": "Kim Agent",
        "email": "agent2@helpwire.test",
        "role": "agent",
    }
    to_admin = await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "admin"})
    assert to_admin.json()["assignee"]["username"] == "admin"

    cleared = await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["assignee"] is None
    assert (await ticket(world, "alice", number))["assignee"] is None


async def test_a_customer_may_change_access_level_and_projects(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    response = await world.patch(
        "alice",
        f"/api/v1/tickets/{number}",
        json={"access_level": "project_users", "projects": ["p1"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["access_level"] == "project_users"
    assert response.json()["projects"] == ["p1"]

    shared = await world.patch(
        "alice", f"/api/v1/tickets/{number}", json={"access_level": "all_users"}
    )
    assert shared.status_code == 200, shared.text
    assert shared.json()["access_level"] == "all_users"
    # carol (no projects, not account-wide) now sees it.
    assert (await world.get("carol", f"/api/v1/tickets/{number}")).status_code == 200


async def test_a_customer_may_not_change_anything_else(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    before = await ticket(world, "alice", number)
    staff_only: dict[str, Any] = {
        "subject": "Mine now",
        "priority": "urgent",
        "status": "solved",
        "assignee": "agent",
        "tags": ["vip"],
        "type": "bug",
        "topic": "network",
        "attributes": {"x": 1},
    }
    for field, value in staff_only.items():
        response = await world.patch(
            "alice", f"/api/v1/tickets/{number}", json={"access_level": "all_users", field: value}
        )
        body = assert_problem(response, 403, "forbidden")
        assert field in body["detail"]
        assert [e["field"] for e in body["errors"]] == [field]
    assert await ticket(world, "alice", number) == before


# --- the timeline -------------------------------------------------------------------------


async def test_the_timeline_shows_every_step_in_order_with_its_author(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await reply(world, "agent", number, "On it.")  # comment + new -> open
    await reply(world, "agent", number, "Legacy plan.", internal=True)
    assert (
        await world.patch("agent", f"/api/v1/tickets/{number}", json={"assignee": "agent2"})
    ).status_code == 200
    assert (
        await world.patch(
            "agent2",
            f"/api/v1/tickets/{number}",
            json={"subject": "Printer smokes", "tags": ["hw"]},
        )
    ).status_code == 200
    assert (await world.post("agent2", f"/api/v1/tickets/{number}/escalate")).status_code == 200
    await set_status(world, number, "pending", who="agent2")
    await reply(world, "alice", number, "Tried it, still smoking.")  # comment + pending -> open
    await set_status(world, number, "solved", who="agent2")
    assert (
        await world.post("alice", f"/api/v1/tickets/{number}/close", json={"score": 4})
    ).status_code == 200
    conversation = await world.get("alice", f"/api/v1/tickets/{number}/comments")
    first_reply = conversation.json()["items"][1]
    assert (
        await world.post("alice", f"/api/v1/comments/{first_reply['id']}/rating", json={"score": 1})
    ).status_code == 200
    assert (
        await world.post(
            "alice", f"/api/v1/tickets/{number}/reopen", json={"body": "Smoking again."}
        )
    ).status_code == 200

    events = await timeline(world, "agent", number)
    steps = [(e["type"], e["actor"]["username"]) for e in events]
    assert steps == [
        ("ticket.created", "alice"),
        ("comment.created", "agent"),
        ("ticket.status_changed", "agent"),
        ("comment.created", "agent"),
        ("ticket.assigned", "agent"),
        ("ticket.updated", "agent2"),
        ("ticket.escalated", "agent2"),
        ("ticket.status_changed", "agent2"),
        ("comment.created", "alice"),
        ("ticket.status_changed", "alice"),
        ("ticket.status_changed", "agent2"),
        ("ticket.status_changed", "alice"),
        ("ticket.rated", "alice"),
        ("comment.rated", "alice"),
        ("ticket.status_changed", "alice"),
        ("comment.created", "alice"),
    ]
    ids = [e["id"] for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    times = [parse_time(e["created_at"]) for e in events]
    assert times == sorted(times)

    moves = [
        (e["data"]["before"], e["data"]["after"])
        for e in events
        if e["type"] == "ticket.status_changed"
    ]
    assert moves == [
        ("new", "open"),
        ("open", "pending"),
        ("pending", "open"),
        ("open", "solved"),
        ("solved", "closed"),
        ("closed", "open"),
    ]
    by_type = {e["type"]: e for e in events}
    assert by_type["ticket.created"]["data"]["comment_id"] == conversation.json()["items"][0]["id"]
    assert by_type["ticket.created"]["data"]["via"] == "api"
    assert by_type["ticket.assigned"]["data"] == {"before": None, "after": "agent2"}
    assert by_type["ticket.updated"]["data"]["changes"] == {
        "subject": {"before": "Something is wrong", "after": "Printer smokes"},
        "tags": {"before": [], "after": ["hw"]},
    }
    assert by_type["ticket.escalated"]["data"]["priority"] == {
        "before": "normal",
        "after": "urgent",
    }
    assert by_type["ticket.rated"]["data"]["score"] == 4
    assert by_type["comment.rated"]["data"]["score"] == 1
    assert by_type["comment.rated"]["data"]["comment_id"] == first_reply["id"]
    internal = [e for e in events if e["internal"]]
    assert [(e["type"], e["actor"]["username"]) for e in internal] == [("comment.created", "agent")]

    customer_events = await timeline(world, "alice", number)
    assert [e["id"] for e in customer_events] == [e["id"] for e in events if not e["internal"]]
    assert all(not e["internal"] for e in customer_events)


async def test_refused_steps_and_empty_patches_leave_no_trace_in_the_timeline(
    world: World,
) -> None:
    number = (await world.create_ticket("alice", priority="high"))["number"]
    etag = (await world.get("agent", f"/api/v1/tickets/{number}")).headers["etag"]
    before = await timeline(world, "agent", number)
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "closed", "type": "x"})
    await world.post("agent", f"/api/v1/tickets/{number}/rating", json={"score": 5})
    await world.post("alice", f"/api/v1/tickets/{number}/reopen", json={"body": "why"})
    await world.patch("alice", f"/api/v1/tickets/{number}", json={"subject": "x"})
    unchanged = await world.patch(
        "agent",
        f"/api/v1/tickets/{number}",
        json={"priority": "high", "subject": "Something is wrong", "status": "new"},
    )
    assert unchanged.status_code == 200, unchanged.text
    assert unchanged.headers["etag"] == etag
    assert await timeline(world, "agent", number) == before


async def test_another_accounts_ticket_and_its_timeline_are_not_found(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    for url in (f"/api/v1/tickets/{number}", f"/api/v1/tickets/{number}/events"):
        assert_problem(await world.get("gus", url), 404, "not-found")
    for url, payload in (
        (f"/api/v1/tickets/{number}/comments", {"body": "hi"}),
        (f"/api/v1/tickets/{number}/close", {}),
        (f"/api/v1/tickets/{number}/escalate", None),
    ):
        assert_problem(await world.post("gus", url, json=payload), 404, "not-found")


async def test_closing_with_a_comment_but_no_score_keeps_the_comment(world: World) -> None:
    ticket = await world.create_ticket("alice")
    path = f"/api/v1/tickets/{ticket['number']}"
    closed = await world.post("alice", f"{path}/close", json={"comment": "Solved it myself."})
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed" and closed.json()["rating"] is None
    bodies = [c["body"] for c in (await world.get("alice", f"{path}/comments")).json()["items"]]
    assert bodies[-1] == "Solved it myself."


async def test_a_follow_up_names_an_earlier_ticket_of_the_same_account(world: World) -> None:
    first = await world.create_ticket("alice")
    follow = await world.create_ticket("alice", follow_up_of=first["number"])
    assert follow["relations"]["follow_up_of"] == first["number"]
    shown = (await world.get("alice", f"/api/v1/tickets/{follow['number']}")).json()
    assert shown["relations"]["follow_up_of"] == first["number"]
    other = await world.create_ticket("gus")
    refused = await world.post(
        "agent",
        "/api/v1/tickets",
        json={"subject": "s", "body": "b", "requester": "alice", "follow_up_of": other["number"]},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "follow_up_of"
