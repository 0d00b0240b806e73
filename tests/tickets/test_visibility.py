"""Who sees which ticket, and what a customer never sees (DESIGN.md section 3, Visibility).

The world: acme has projects p1 and p2; owner has account-wide access, alice is in p1,
bob in p2, carol in no project; gus belongs to another account (globex).
"""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from tests.conftest import World

STAFF = ("admin", "agent", "agent2")
CUSTOMERS = ("owner", "alice", "bob", "carol", "gus")
EVERYONE = STAFF + CUSTOMERS


async def who_can_open(world: World, number: int) -> set[str]:
    """The people for whom GET /tickets/{number} answers 200 (everyone else must get 404)."""
    seen = set()
    for who in EVERYONE:
        response = await world.get(who, f"/api/v1/tickets/{number}")
        assert response.status_code in (200, 404), (who, response.status_code, response.text)
        if response.status_code == 200:
            seen.add(who)
    return seen


async def who_lists(world: World, number: int) -> set[str]:
    """The people whose GET /tickets list holds the ticket."""
    listed = set()
    for who in EVERYONE:
        response = await world.get(who, "/api/v1/tickets", params={"limit": 200})
        assert response.status_code == 200, response.text
        if number in [t["number"] for t in response.json()["items"]]:
            listed.add(who)
    return listed


async def assert_seen_by_exactly(world: World, number: int, expected: set[str]) -> None:
    assert await who_can_open(world, number) == expected
    assert await who_lists(world, number) == expected


# --- who sees a ticket -------------------------------------------------------------------


async def test_an_account_users_ticket_is_seen_by_its_requester_account_wide_members_and_staff(
    world: World,
) -> None:
    ticket = await world.create_ticket("alice", access_level="account_users")
    await assert_seen_by_exactly(world, ticket["number"], {*STAFF, "alice", "owner"})


async def test_a_project_users_ticket_is_seen_by_members_of_its_projects(world: World) -> None:
    # alice is no member of p2, so she may not name it herself: support files it for her.
    ticket = await world.create_ticket(
        "agent", requester="alice", access_level="project_users", projects=["p2"]
    )
    await assert_seen_by_exactly(world, ticket["number"], {*STAFF, "alice", "owner", "bob"})


async def test_a_project_users_ticket_is_hidden_from_members_of_other_projects(
    world: World,
) -> None:
    ticket = await world.create_ticket(
        "agent", requester="carol", access_level="project_users", projects=["p1"]
    )
    await assert_seen_by_exactly(world, ticket["number"], {*STAFF, "carol", "owner", "alice"})


async def test_a_ticket_of_several_projects_is_seen_by_members_of_any_of_them(
    world: World,
) -> None:
    ticket = await world.create_ticket("owner", access_level="project_users", projects=["p1", "p2"])
    await assert_seen_by_exactly(world, ticket["number"], {*STAFF, "owner", "alice", "bob"})


async def test_an_all_users_ticket_is_seen_by_every_user_of_the_account(world: World) -> None:
    ticket = await world.create_ticket("alice", access_level="all_users")
    await assert_seen_by_exactly(
        world, ticket["number"], {*STAFF, "alice", "owner", "bob", "carol"}
    )


async def test_a_ticket_of_another_account_is_seen_by_nobody_of_this_account(
    world: World,
) -> None:
    ticket = await world.create_ticket("gus", access_level="all_users")
    await assert_seen_by_exactly(world, ticket["number"], {*STAFF, "gus"})


async def test_narrowing_access_takes_the_ticket_away_from_those_who_no_longer_qualify(
    world: World,
) -> None:
    ticket = await world.create_ticket("alice", access_level="all_users")
    number = ticket["number"]
    assert (await world.get("carol", f"/api/v1/tickets/{number}")).status_code == 200

    narrowed = await world.patch(
        "owner",
        f"/api/v1/tickets/{number}",
        json={"access_level": "project_users", "projects": ["p2"]},
    )

    assert narrowed.status_code == 200, narrowed.text
    await assert_seen_by_exactly(world, number, {*STAFF, "alice", "owner", "bob"})


async def test_a_ticket_someone_may_not_see_answers_exactly_like_one_that_does_not_exist(
    world: World,
) -> None:
    ticket = await world.create_ticket("alice")
    hidden = await world.get("gus", f"/api/v1/tickets/{ticket['number']}")
    missing = await world.get("gus", "/api/v1/tickets/999999")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.headers["content-type"] == "application/problem+json"
    assert hidden.json()["type"] == missing.json()["type"] == "/problems/not-found"
    assert "etag" not in hidden.headers


ROUTES_OF_A_TICKET: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("PATCH", "", {"access_level": "all_users"}),
    ("GET", "/comments", None),
    ("POST", "/comments", {"body": "Me too!"}),
    ("GET", "/events", None),
    ("POST", "/close", {}),
    ("POST", "/reopen", {"body": "Again"}),
    ("POST", "/escalate", None),
    ("POST", "/rating", {"score": 5}),
    ("POST", "/read", None),
]


async def test_every_ticket_route_answers_404_not_403_to_another_account(world: World) -> None:
    ticket = await world.create_ticket("alice", access_level="all_users")
    before = await world.row_counts()

    for method, path, body in ROUTES_OF_A_TICKET:
        url = f"/api/v1/tickets/{ticket['number']}{path}"
        response = await world.request("gus", method, url, json=body)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["type"] == "/problems/not-found"
    assert await world.row_counts() == before


async def test_staff_may_filter_the_list_down_to_one_account(world: World) -> None:
    await world.create_ticket("alice")
    globex = await world.create_ticket("gus")
    listed = await world.get("agent", "/api/v1/tickets", params={"account": "globex"})
    assert [t["number"] for t in listed.json()["items"]] == [globex["number"]]
    # A customer's filter never widens what they may see.
    peeked = await world.get("owner", "/api/v1/tickets", params={"account": "globex"})
    assert peeked.json()["items"] == []


# --- internal notes ------------------------------------------------------------------------


async def _ticket_with_internal_note(world: World) -> dict[str, Any]:
    """A ticket alice filed, a public reply and an internal note (with a file) from support.

    The note says "zanzibar", a word written nowhere else."""
    ticket = await world.create_ticket("alice", subject="Invoice is wrong")
    number = ticket["number"]
    reply = await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "Looking into it."}
    )
    assert reply.status_code == 201, reply.text
    upload = await world.upload("agent", "quarrel-notes.txt", b"customer is difficult")
    note = await world.post(
        "agent",
        f"/api/v1/tickets/{number}/comments",
        json={
            "body": "Zanzibar: refund them quietly.",
            "internal": True,
            "files": [upload["id"]],
        },
    )
    assert note.status_code == 201, note.text
    assert note.json()["internal"] is True
    return {
        "number": number,
        "reply_id": reply.json()["id"],
        "note_id": note.json()["id"],
        "file_id": upload["id"],
    }


async def test_internal_notes_are_absent_from_the_conversation_a_customer_reads(
    world: World,
) -> None:
    case = await _ticket_with_internal_note(world)
    url = f"/api/v1/tickets/{case['number']}/comments"

    for customer in ("alice", "owner"):
        seen = (await world.get(customer, url)).json()["items"]
        assert [c["id"] for c in seen] == [seen[0]["id"], case["reply_id"]]
        assert all(not c["internal"] for c in seen)
        assert "Zanzibar" not in str(seen)

    staff_view = (await world.get("agent", url)).json()["items"]
    assert [c["id"] for c in staff_view][-1] == case["note_id"]


async def test_an_internal_note_fetched_by_id_is_not_found_for_a_customer(world: World) -> None:
    case = await _ticket_with_internal_note(world)

    for customer in ("alice", "owner"):
        note = await world.get(customer, f"/api/v1/comments/{case['note_id']}")
        assert note.status_code == 404, note.text
        assert "Zanzibar" not in note.text
    public = await world.get("alice", f"/api/v1/comments/{case['reply_id']}")
    assert public.status_code == 200
    assert (await world.get("agent", f"/api/v1/comments/{case['note_id']}")).status_code == 200


async def test_internal_notes_leave_no_trace_in_a_customers_timeline(world: World) -> None:
    case = await _ticket_with_internal_note(world)
    url = f"/api/v1/tickets/{case['number']}/events"

    events = (await world.get("alice", url)).json()["items"]

    assert events, "the customer sees the public part of the timeline"
    assert all(not e["internal"] for e in events)
    assert all(e["data"].get("comment_id") != case["note_id"] for e in events)
    assert case["file_id"] not in str(events)
    staff_events = (await world.get("agent", url)).json()["items"]
    assert any(e["data"].get("comment_id") == case["note_id"] for e in staff_events)


@pytest.mark.parametrize("words", ["zanzibar", "quarrel notes"])
async def test_searching_for_words_only_in_an_internal_note_finds_nothing_for_a_customer(
    world: World, words: str
) -> None:
    case = await _ticket_with_internal_note(world)

    for customer in ("alice", "owner"):
        found = await world.get(customer, "/api/v1/tickets", params={"q": words})
        assert found.status_code == 200, found.text
        assert found.json()["items"] == []
    staff = await world.get("agent", "/api/v1/tickets", params={"q": words})
    assert [t["number"] for t in staff.json()["items"]] == [case["number"]]


async def test_a_file_attached_to_an_internal_note_cannot_be_downloaded_by_a_customer(
    world: World,
) -> None:
    case = await _ticket_with_internal_note(world)
    url = f"/api/v1/files/{case['file_id']}"

    for customer in ("alice", "owner", "gus"):
        response = await world.get(customer, url)
        assert response.status_code == 404, (customer, response.text)
        assert b"customer is difficult" not in response.content
    assert (await world.get("agent2", url)).content == b"customer is difficult"


async def test_a_customer_cannot_write_an_internal_note(world: World) -> None:
    ticket = await world.create_ticket("alice")
    before = await world.row_counts()

    response = await world.post(
        "alice",
        f"/api/v1/tickets/{ticket['number']}/comments",
        json={"body": "psst", "internal": True},
    )

    assert response.status_code == 403, response.text
    assert await world.row_counts() == before


# --- service tokens acting on behalf of a customer -----------------------------------------


async def test_a_service_token_files_a_ticket_on_behalf_of_a_customer_of_its_account(
    world: World,
) -> None:
    response = await world.post(
        "acme-portal",
        "/api/v1/tickets",
        json={"subject": "Filed from the portal", "body": "My app crashed."},
        headers={"On-Behalf-Of": "alice"},
    )

    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["requester"]["username"] == "alice"
    assert ticket["account"] == "acme"
    # alice finds it among her own tickets, and its timeline names the portal that filed it.
    mine = await world.get("alice", "/api/v1/tickets", params={"requester": "me"})
    assert [t["number"] for t in mine.json()["items"]] == [ticket["number"]]
    events = (await world.get("agent", f"/api/v1/tickets/{ticket['number']}/events")).json()
    created = next(e for e in events["items"] if e["type"] == "ticket.created")
    assert created["data"]["on_behalf_of_service"] == "acme-portal"
    assert created["data"]["requester"] == "alice"
    assert ticket["context"]["service"] == "acme-portal"


async def test_a_service_token_acting_for_a_customer_sees_only_what_that_customer_sees(
    world: World,
) -> None:
    hidden_from_carol = await world.create_ticket("alice")
    as_carol = await world.get(
        "acme-portal",
        f"/api/v1/tickets/{hidden_from_carol['number']}",
        headers={"On-Behalf-Of": "carol"},
    )
    assert as_carol.status_code == 404


REFUSED_ON_BEHALF_OF = [
    ("acme-portal", "gus"),  # a customer of another account
    ("acme-portal", "agent"),  # staff
    ("acme-portal", "admin"),
    ("acme-portal", "nobody-by-that-name"),
    ("alice", "bob"),  # customer tokens never act for anyone else
    ("owner", "alice"),
    ("agent", "alice"),
]


async def test_on_behalf_of_is_refused_outside_a_service_tokens_own_customers(
    world: World,
) -> None:
    before = await world.row_counts()

    for who, on_behalf_of in REFUSED_ON_BEHALF_OF:
        response = await world.post(
            who,
            "/api/v1/tickets",
            json={"subject": "Sneaky", "body": "Let me in."},
            headers={"On-Behalf-Of": on_behalf_of},
        )
        assert response.status_code == 403, (who, on_behalf_of, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/forbidden"
    assert await world.row_counts() == before


# --- authentication ------------------------------------------------------------------------


def _basic(user: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


INVALID_AUTHORIZATION = [
    None,
    "Bearer ",
    "Bearer not-a-token",
    "Token abc",
    "Basic %%%not-base64%%%",
    _basic("nobody"),
]


async def test_http_basic_with_a_password_is_refused_because_the_token_is_the_user_name(
    world: World,
) -> None:
    response = await world.client.get(
        "/api/v1/me", headers={"Authorization": _basic(world.tokens["bob"], "something")}
    )
    assert response.status_code == 401


async def test_a_request_without_a_valid_token_is_401_with_a_challenge(world: World) -> None:
    for authorization in INVALID_AUTHORIZATION:
        headers = {"Authorization": authorization} if authorization is not None else {}

        response = await world.client.get("/api/v1/tickets", headers=headers)

        assert response.status_code == 401, (authorization, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "/problems/unauthenticated"
        assert response.json()["detail"]
        assert "Bearer" in response.headers["www-authenticate"]


async def test_an_unauthenticated_create_changes_nothing(world: World) -> None:
    before = await world.row_counts()
    response = await world.client.post(
        "/api/v1/tickets", json={"subject": "Hello", "body": "Anyone?"}
    )
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    assert await world.row_counts() == before


async def test_a_revoked_token_stops_working_at_once(world: World) -> None:
    created = await world.post(
        "admin", "/api/v1/tokens", json={"username": "alice", "label": "laptop"}
    )
    assert created.status_code == 201, created.text
    token, token_id = created.json()["token"], created.json()["id"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await world.client.get("/api/v1/tickets", headers=bearer)).status_code == 200

    revoked = await world.request("admin", "DELETE", f"/api/v1/tokens/{token_id}")
    assert revoked.status_code == 200, revoked.text

    response = await world.client.get("/api/v1/tickets", headers=bearer)
    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    # alice's other token is untouched.
    assert (await world.get("alice", "/api/v1/tickets")).status_code == 200


async def test_http_basic_with_the_token_as_user_name_and_an_empty_password_works(
    world: World,
) -> None:
    ticket = await world.create_ticket("alice")
    headers = {"Authorization": _basic(world.tokens["alice"])}

    response = await world.client.get(f"/api/v1/tickets/{ticket['number']}", headers=headers)

    assert response.status_code == 200, response.text
    assert response.json()["requester"]["username"] == "alice"


async def test_httpx_basic_auth_with_the_token_works_too(world: World) -> None:
    response = await world.client.get("/api/v1/me", auth=httpx.BasicAuth(world.tokens["bob"], ""))
    assert response.status_code == 200, response.text
    assert response.json()["username"] == "bob"


async def test_the_comment_count_a_customer_sees_does_not_betray_internal_notes(
    world: World,
) -> None:
    case = await _ticket_with_internal_note(world)

    seen = (await world.get("alice", f"/api/v1/tickets/{case['number']}")).json()

    assert seen["comment_count"] == 2  # the body and the public reply


async def test_an_internal_note_does_not_change_what_the_customer_side_sees(world: World) -> None:
    ticket = await world.create_ticket("alice")
    path = f"/api/v1/tickets/{ticket['number']}"
    before = (await world.get("alice", path)).json()
    note = await world.post(
        "agent", f"{path}/comments", json={"body": "customer is on the old plan", "internal": True}
    )
    assert note.status_code == 201
    after = (await world.get("alice", path)).json()
    assert after == before
    staff_view = (await world.get("agent", path)).json()
    assert staff_view["comment_count"] == 2


async def test_only_the_requester_or_an_account_wide_user_changes_who_sees_a_ticket(
    world: World,
) -> None:
    ticket = await world.create_ticket("owner", access_level="project_users", projects=["p1"])
    path = f"/api/v1/tickets/{ticket['number']}"
    # alice sees it through p1, but may not open it to the whole account.
    widened = await world.patch("alice", path, json={"access_level": "all_users"})
    assert widened.status_code == 403
    assert (await world.get("carol", path)).status_code == 404
    # The requester may; a project-only requester only into projects of their own.
    own = await world.create_ticket("alice", access_level="project_users", projects=["p1"])
    own_path = f"/api/v1/tickets/{own['number']}"
    moved = await world.patch("alice", own_path, json={"projects": ["p2"]})
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "projects"
    assert "p2" in moved.json()["detail"]
    opened = await world.patch("alice", own_path, json={"access_level": "all_users"})
    assert opened.status_code == 200
    assert (await world.get("carol", own_path)).status_code == 200


async def test_a_colleague_who_can_see_a_ticket_cannot_rate_it(world: World) -> None:
    ticket = await world.create_ticket("alice", access_level="all_users")
    number = ticket["number"]
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    refused = await world.post("carol", f"/api/v1/tickets/{number}/rating", json={"score": 1})
    assert refused.status_code == 403
    rated = await world.post("alice", f"/api/v1/tickets/{number}/rating", json={"score": 5})
    assert rated.status_code == 200
    by_owner = await world.post("owner", f"/api/v1/tickets/{number}/rating", json={"score": 4})
    assert by_owner.status_code == 200


async def test_an_internal_note_leaves_the_customers_etag_as_it_was(world: World) -> None:
    ticket = await world.create_ticket("alice")
    path = f"/api/v1/tickets/{ticket['number']}"
    customer_tag = (await world.get("alice", path)).headers["etag"]
    staff_tag = (await world.get("agent", path)).headers["etag"]
    assert customer_tag != staff_tag  # two representations, two tags
    await world.post("agent", f"{path}/comments", json={"body": "note", "internal": True})
    assert (await world.get("alice", path)).headers["etag"] == customer_tag
    assert (await world.get("agent", path)).headers["etag"] != staff_tag
    unchanged = await world.get("alice", path, headers={"If-None-Match": customer_tag})
    assert unchanged.status_code == 304


async def test_customers_are_not_shown_the_e_mail_of_support_staff(world: World) -> None:
    ticket = await world.create_ticket("alice")
    path = f"/api/v1/tickets/{ticket['number']}"
    await world.patch("agent", path, json={"assignee": "agent"})
    await world.post("agent", f"{path}/comments", json={"body": "on it"})
    seen = (await world.get("alice", path)).json()
    assert seen["assignee"]["email"] is None
    assert seen["requester"]["email"] == "alice@acme.test"
    comments = (await world.get("alice", f"{path}/comments")).json()["items"]
    assert comments[1]["author"]["email"] is None
    events = (await world.get("alice", f"{path}/events")).json()["items"]
    assert all(e["actor"]["email"] is None for e in events if e["actor"]["role"] == "agent")
    assert (await world.get("agent", path)).json()["assignee"]["email"] == "agent@helpwire.test"
