"""The Selectel face: Selectel's Tickets API v1 clients work unchanged (seed 002)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import World

V1 = "/selectel/tickets/v1"
TICKETS = f"{V1}/tickets"
TICKET_KEYS = [
    "closed_at",
    "created_at",
    "is_client_author",
    "is_client_read",
    "is_closed",
    "is_resolved",
    "number",
    "status",
    "status_key",
    "summary",
    "updated_at",
    "vote",
    "access_level",
    "keystone_projects",
    "notice_id",
    "splitted_from_ticket_number",
]
COMMENT_KEYS = [
    "files",
    "body",
    "id",
    "is_client_author",
    "is_client_read",
    "sent_at",
    "splitted_at",
    "splitted_to_ticket_number",
    "vote",
    "ticket_number",
    "client_author_id",
    "admin_author",
]
VOTE_KEYS = ["comment", "created_at", "score"]
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
OPEN = {"en": "Open", "ru": "Открыт"}

# The seed's request samples, as written.
SEED_CREATE = {"comment_body": "my first comment", "summary": "new test ticket"}
SEED_UPDATE = {"access_level": "account_users"}
SEED_CLOSE = {"comment": "string", "score": 1}
SEED_RATE = {"comment": "string", "score": 1}
SEED_COMMENT_BODY = "My second comment"


def token(world: World, who: str, header: str = "X-Token") -> dict[str, str]:
    return {header: world.tokens[who]}


async def call(world: World, who: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
    headers = {**token(world, who), **kwargs.pop("headers", {})}
    return await world.client.request(method, url, headers=headers, **kwargs)


async def create(world: World, who: str = "alice", **fields: Any) -> dict[str, Any]:
    response = await call(world, who, "POST", TICKETS, json={**SEED_CREATE, **fields})
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def native(world: World, number: int) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/tickets/{number}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def native_comments(world: World, number: int) -> list[dict[str, Any]]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/comments")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def assert_error(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    error: dict[str, Any] = body["error"]
    assert error["code"] == status
    assert isinstance(error["title"], str) and error["title"]
    assert isinstance(error["message"], str) and error["message"]
    if fields:
        assert sorted({f["field"] for f in error["fields"]}) == sorted(fields), error
    return error


def assert_ticket_shape(ticket: dict[str, Any]) -> None:
    assert list(ticket) == TICKET_KEYS
    assert TIME_RE.match(ticket["created_at"]) and TIME_RE.match(ticket["updated_at"])
    assert set(ticket["status"]) == {"en", "ru"}


# --- the seed's examples ---------------------------------------------------------------------


async def test_the_seed_create_example_answers_the_seed_ticket(world: World) -> None:
    response = await call(world, "alice", "POST", TICKETS, json=SEED_CREATE)

    assert response.status_code == 200, response.text
    ticket = response.json()
    assert_ticket_shape(ticket)
    assert ticket == {
        "closed_at": None,
        "created_at": ticket["created_at"],
        "is_client_author": True,
        "is_client_read": True,
        "is_closed": False,
        "is_resolved": False,
        "number": 1,
        "status": OPEN,
        "status_key": "in_progress",
        "summary": "new test ticket",
        "updated_at": ticket["updated_at"],
        "vote": None,
        "access_level": "account_users",
        "keystone_projects": [],
        "notice_id": None,
        "splitted_from_ticket_number": None,
    }
    stored = await native(world, 1)
    assert stored["subject"] == "new test ticket"
    assert stored["requester"]["username"] == "alice"
    assert stored["context"]["via"] == "selectel"
    assert stored["context"]["request_id"] == response.headers["X-Request-ID"]
    assert (await native_comments(world, 1))[0]["body"] == "my first comment"


async def test_every_field_of_a_create_is_kept(world: World) -> None:
    files = [(await world.upload("alice", f"log{i}.txt", b"boot log"))["id"] for i in range(2)]
    ticket = await create(
        world,
        files=files,
        topic_key="billing",
        notice_id=42,
        access_level="project_users",
        keystone_projects=["p1"],
    )

    assert ticket["access_level"] == "project_users"
    assert ticket["keystone_projects"] == ["p1"]
    assert ticket["notice_id"] == 42
    stored = await native(world, ticket["number"])
    assert stored["topic"] == "billing" and stored["subtopic"] is None
    assert stored["access_level"] == "project_users"
    assert stored["projects"] == ["p1"]
    assert stored["attributes"] == {"selectel": {"notice_id": 42}}
    first = (await native_comments(world, ticket["number"]))[0]
    assert sorted(f["id"] for f in first["files"]) == sorted(files)
    # The Selectel view of the same ticket agrees.
    again = await call(world, "alice", "GET", f"{TICKETS}/{ticket['number']}")
    assert again.json() == ticket


async def test_a_subtopic_key_from_the_topics_list_files_under_its_topic(world: World) -> None:
    ticket = await create(world, topic_key="invoices")

    stored = await native(world, ticket["number"])
    assert (stored["topic"], stored["subtopic"]) == ("billing", "invoices")


async def test_the_topics_list_has_subtopics_and_both_names(world: World) -> None:
    response = await call(world, "carol", "GET", f"{V1}/topics")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "items": [
            {
                "key": "billing",
                "names": {"en": "Billing", "ru": "Оплата"},
                "subtopics": [{"key": "invoices", "names": {"en": "Invoices", "ru": "Счета"}}],
            },
            {"key": "network", "names": {"en": "Network", "ru": "Сеть"}, "subtopics": []},
        ]
    }


async def test_x_auth_token_works_too_and_no_token_is_unauthorized(world: World) -> None:
    response = await world.client.post(
        TICKETS, json=SEED_CREATE, headers=token(world, "bob", "X-Auth-Token")
    )
    assert response.status_code == 200, response.text
    assert (await native(world, 1))["requester"]["username"] == "bob"

    before = await world.row_counts()
    assert_error(await world.client.post(TICKETS, json=SEED_CREATE), 401)
    assert_error(
        await world.client.post(TICKETS, json=SEED_CREATE, headers={"X-Token": "nope"}), 401
    )
    assert_error(await world.client.get(f"{V1}/topics"), 401)
    assert await world.row_counts() == before


# --- refused requests ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"summary": "x"}, ["comment_body"]),
        ({"comment_body": "x"}, ["summary"]),
        ({**SEED_CREATE, "summary": ""}, ["summary"]),
        ({**SEED_CREATE, "summary": "s" * 256}, ["summary"]),
        ({**SEED_CREATE, "summary": "   "}, ["summary"]),
        ({**SEED_CREATE, "comment_body": ""}, ["comment_body"]),
        ({**SEED_CREATE, "comment_body": "b" * 50_001}, ["comment_body"]),
        ({**SEED_CREATE, "files": []}, ["files"]),
        ({**SEED_CREATE, "files": ["not-a-uuid"]}, ["files[0]"]),
        ({**SEED_CREATE, "files": ["497f6eca-6276-4993-bfeb-53cbbbba6f08"] * 11}, ["files"]),
        ({**SEED_CREATE, "files": ["497f6eca-6276-4993-bfeb-53cbbbba6f08"]}, ["files"]),
        ({**SEED_CREATE, "keystone_projects": ["p1", "p2"]}, ["keystone_projects"]),
        ({**SEED_CREATE, "keystone_projects": []}, ["keystone_projects"]),
        ({**SEED_CREATE, "access_level": "everyone"}, ["access_level"]),
        ({**SEED_CREATE, "access_level": "project_users"}, ["keystone_projects"]),
        ({**SEED_CREATE, "topic_key": "nope"}, ["topic_key"]),
        ({**SEED_CREATE, "topic_key": ""}, ["topic_key"]),
        ({**SEED_CREATE, "notice_id": "seven"}, ["notice_id"]),
        ({**SEED_CREATE, "notice_id": 2**31}, ["notice_id"]),
    ],
)
async def test_an_invalid_create_is_a_400_naming_the_field(
    world: World, body: dict[str, Any], fields: list[str]
) -> None:
    before = await world.row_counts()

    assert_error(await call(world, "alice", "POST", TICKETS, json=body), 400, *fields)
    assert await world.row_counts() == before


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b'"text"'])
async def test_a_body_that_is_not_a_json_object_is_a_400(world: World, raw: bytes) -> None:
    before = await world.row_counts()

    response = await call(
        world, "alice", "POST", TICKETS, content=raw, headers={"Content-Type": "application/json"}
    )
    assert_error(response, 400)
    assert await world.row_counts() == before


async def test_the_third_ticket_within_a_minute_is_too_many(world: World) -> None:
    await world.create_ticket("alice")  # natively filed tickets do not count
    await create(world)
    await create(world)
    before = await world.row_counts()

    response = await call(world, "alice", "POST", TICKETS, json=SEED_CREATE)

    error = assert_error(response, 429)
    assert "2 tickets" in error["message"]
    assert int(response.headers["Retry-After"]) >= 1
    assert await world.row_counts() == before
    # Another user has a limit of their own.
    await create(world, "bob")


async def test_the_sixty_first_comment_within_a_minute_is_too_many(world: World) -> None:
    ticket = await create(world)  # its body is the first comment
    url = f"{TICKETS}/{ticket['number']}/comments"
    for i in range(59):
        response = await call(world, "alice", "POST", url, json={"body": f"comment {i}"})
        assert response.status_code == 200, response.text
    before = await world.row_counts()

    assert_error(await call(world, "alice", "POST", url, json={"body": "one more"}), 429)
    assert await world.row_counts() == before


# --- lists ---------------------------------------------------------------------------------


async def test_pages_count_the_items_and_leave_no_gaps(world: World) -> None:
    for i in range(7):
        await world.create_ticket("owner", subject=f"ticket {i}")

    seen: list[int] = []
    for page in (1, 2, 3):
        response = await call(
            world, "owner", "GET", TICKETS, params={"page": page, "items_per_page": 3}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert list(body) == ["item_count", "items", "items_per_page", "page", "page_count"]
        assert (body["item_count"], body["items_per_page"], body["page"], body["page_count"]) == (
            7,
            3,
            page,
            3,
        )
        for item in body["items"]:
            assert_ticket_shape(item)
        seen.extend(item["number"] for item in body["items"])
    assert seen == [7, 6, 5, 4, 3, 2, 1]  # newest first by default

    beyond = await call(world, "owner", "GET", TICKETS, params={"page": 4, "items_per_page": 3})
    assert beyond.json()["items"] == [] and beyond.json()["item_count"] == 7

    default = (await call(world, "owner", "GET", TICKETS)).json()
    assert (default["items_per_page"], default["page"], default["page_count"]) == (10, 1, 1)


async def test_sorting_by_summary_and_number(world: World) -> None:
    for subject in ("banana", "apple", "cherry"):
        await world.create_ticket("owner", subject=subject)

    async def order(**params: Any) -> list[str]:
        response = await call(world, "owner", "GET", TICKETS, params=params)
        assert response.status_code == 200, response.text
        return [t["summary"] for t in response.json()["items"]]

    assert await order(sort_by="summary", sort_by_order="asc") == ["apple", "banana", "cherry"]
    assert await order(sort_by="summary", sort_by_order="desc") == ["cherry", "banana", "apple"]
    assert await order(sort_by="number", sort_by_order="asc") == ["banana", "apple", "cherry"]
    assert await order(sort_by="summary", items_per_page=1, page=2) == ["banana"]


async def test_list_filters(world: World) -> None:
    closed = await world.create_ticket("owner", subject="printer on fire")
    await world.create_ticket("owner", subject="quota", access_level="all_users")
    await world.create_ticket("owner", subject="vm", access_level="project_users", projects=["p2"])
    await world.post("owner", f"/api/v1/tickets/{closed['number']}/close", json={})

    async def numbers(**params: Any) -> list[int]:
        response = await call(world, "owner", "GET", TICKETS, params=params)
        assert response.status_code == 200, response.text
        return sorted(t["number"] for t in response.json()["items"])

    assert await numbers() == [1, 2, 3]
    assert await numbers(only_closed="true") == [1]
    assert await numbers(only_opened="true") == [2, 3]
    assert await numbers(access_level="all_users") == [2]
    assert await numbers(keystone_projects="p2") == [3]
    assert await numbers(q="printer") == [1]
    listed = (await call(world, "owner", "GET", TICKETS, params={"only_closed": "true"})).json()
    assert listed["items"][0]["status_key"] == "closed"
    assert listed["items"][0]["is_closed"] is True


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"items_per_page": 0}, "items_per_page"),
        ({"items_per_page": 1001}, "items_per_page"),
        ({"page": 0}, "page"),
        ({"sort_by": "priority"}, "sort_by"),
        ({"sort_by_order": "up"}, "sort_by_order"),
        ({"access_level": "nobody"}, "access_level"),
        ({"keystone_projects": ["p1", "p2"]}, "keystone_projects"),
        ({"q": ""}, "q"),
        ({"only_opened": "true", "only_closed": "true"}, "only_closed"),
    ],
)
async def test_invalid_list_parameters_are_a_400(
    world: World, params: dict[str, Any], field: str
) -> None:
    assert_error(await call(world, "owner", "GET", TICKETS, params=params), 400, field)


# --- visibility and access level -----------------------------------------------------------


async def test_access_level_update_decides_who_sees_the_ticket(world: World) -> None:
    number = (await create(world, "alice"))["number"]
    url = f"{TICKETS}/{number}"

    assert_error(await call(world, "bob", "GET", url), 404)
    assert_error(await call(world, "gus", "GET", url), 404)
    assert (await call(world, "bob", "GET", TICKETS)).json()["item_count"] == 0

    opened = await call(world, "alice", "PATCH", url, json={"access_level": "all_users"})
    assert opened.status_code == 200, opened.text
    assert opened.json()["access_level"] == "all_users"
    assert (await call(world, "bob", "GET", url)).status_code == 200
    assert_error(await call(world, "gus", "GET", url), 404)

    narrowed = await call(
        world,
        "alice",
        "PATCH",
        url,
        json={"access_level": "project_users", "keystone_projects": ["p1"]},
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["keystone_projects"] == ["p1"]
    assert_error(await call(world, "bob", "GET", url), 404)
    stored = await native(world, number)
    assert (stored["access_level"], stored["projects"]) == ("project_users", ["p1"])

    seed = await call(world, "alice", "PATCH", url, json=SEED_UPDATE)
    assert seed.status_code == 200, seed.text
    assert_ticket_shape(seed.json())
    assert seed.json()["access_level"] == "account_users"


async def test_refused_updates_change_nothing(world: World) -> None:
    number = (await create(world, "alice"))["number"]
    url = f"{TICKETS}/{number}"
    before = await world.row_counts()

    assert_error(
        await call(world, "alice", "PATCH", url, json={"keystone_projects": ["p1", "p2"]}),
        400,
        "keystone_projects",
    )
    assert_error(
        await call(world, "alice", "PATCH", url, json={"access_level": "project_users"}),
        400,
        "keystone_projects",
    )
    # alice is no member of p2: the core refuses naming it, as it refuses an unknown one.
    assert_error(
        await call(
            world,
            "alice",
            "PATCH",
            url,
            json={"access_level": "project_users", "keystone_projects": ["p2"]},
        ),
        400,
        "keystone_projects",
    )
    assert_error(await call(world, "gus", "PATCH", url, json=SEED_UPDATE), 404)
    assert await world.row_counts() == before
    assert (await native(world, number))["access_level"] == "account_users"


# --- lifecycle -----------------------------------------------------------------------------


async def test_close_with_a_score_then_reopen(world: World) -> None:
    number = (await create(world))["number"]
    url = f"{TICKETS}/{number}"

    closed = await call(world, "alice", "POST", f"{url}/close", json=SEED_CLOSE)

    assert closed.status_code == 200, closed.text
    ticket = closed.json()
    assert_ticket_shape(ticket)
    assert ticket["is_closed"] is True and ticket["is_resolved"] is True
    assert (ticket["status_key"], ticket["status"]) == ("closed", {"en": "Closed", "ru": "Закрыт"})
    assert TIME_RE.match(ticket["closed_at"])
    assert list(ticket["vote"]) == VOTE_KEYS
    assert (ticket["vote"]["score"], ticket["vote"]["comment"]) == (1, "string")
    stored = await native(world, number)
    assert stored["status"] == "closed"
    assert (stored["rating"]["score"], stored["rating"]["comment"]) == (1, "string")

    before = await world.row_counts()
    assert_error(await call(world, "alice", "POST", f"{url}/close", json=SEED_CLOSE), 409)
    assert_error(await call(world, "alice", "POST", f"{url}/comments", json={"body": "x"}), 409)
    assert_error(await call(world, "alice", "POST", f"{url}/close", json={"score": 6}), 400)
    assert_error(await call(world, "alice", "POST", f"{url}/reopen", json={}), 400, "body")
    assert await world.row_counts() == before

    file_id = (await world.upload("alice", "trace.txt", b"trace"))["id"]
    reopened = await call(
        world, "alice", "POST", f"{url}/reopen", json={"files": [file_id], "body": "string"}
    )

    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["is_closed"] is False
    assert reopened.json()["closed_at"] is None
    assert reopened.json()["status_key"] == "in_progress"
    last = (await native_comments(world, number))[-1]
    assert last["body"] == "string"
    assert [f["id"] for f in last["files"]] == [file_id]


async def test_close_without_a_score_keeps_the_comment_as_a_reply(world: World) -> None:
    number = (await create(world))["number"]

    closed = await call(
        world, "alice", "POST", f"{TICKETS}/{number}/close", json={"comment": "Fixed, thanks."}
    )

    assert closed.status_code == 200, closed.text
    assert closed.json()["vote"] is None
    assert (await native_comments(world, number))[-1]["body"] == "Fixed, thanks."


async def test_rate_a_resolved_ticket(world: World) -> None:
    number = (await create(world))["number"]
    url = f"{TICKETS}/{number}/vote"
    before = await world.row_counts()
    assert_error(await call(world, "alice", "POST", url, json=SEED_RATE), 409)  # not solved
    assert_error(await call(world, "alice", "POST", url, json={"score": 0}), 400, "score")
    assert_error(await call(world, "alice", "POST", url, json={"comment": "x"}), 400, "score")
    assert await world.row_counts() == before
    solved = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    assert solved.status_code == 200, solved.text

    response = await call(world, "alice", "POST", url, json=SEED_RATE)

    assert response.status_code == 200, response.text
    vote = response.json()
    assert list(vote) == VOTE_KEYS
    assert (vote["comment"], vote["score"]) == ("string", 1)
    assert TIME_RE.match(vote["created_at"])
    ticket = (await call(world, "alice", "GET", f"{TICKETS}/{number}")).json()
    assert ticket["vote"] == vote
    assert ticket["is_resolved"] is True and ticket["status_key"] == "resolved"


# --- comments ------------------------------------------------------------------------------


async def test_comments_add_list_get_and_rate(world: World) -> None:
    number = (await create(world))["number"]
    file_id = (await world.upload("alice", "shot.png", b"png", "image/png"))["id"]

    added = await call(
        world,
        "alice",
        "POST",
        f"{TICKETS}/{number}/comments",
        json={"body": SEED_COMMENT_BODY, "files": [file_id]},
    )

    assert added.status_code == 200, added.text
    mine = added.json()
    assert list(mine) == COMMENT_KEYS
    assert mine["files"] == [file_id]
    assert (mine["body"], mine["ticket_number"]) == (SEED_COMMENT_BODY, number)
    assert (mine["is_client_author"], mine["client_author_id"], mine["admin_author"]) == (
        True,
        "alice",
        None,
    )
    assert mine["vote"] is None and TIME_RE.match(mine["sent_at"])
    stored = (await native_comments(world, number))[-1]
    assert stored["body"] == SEED_COMMENT_BODY and stored["files"][0]["id"] == file_id

    reply = await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "Try rebooting."}
    )
    assert reply.status_code == 201, reply.text
    reply_id = reply.json()["id"]

    listed = await call(world, "alice", "GET", f"{TICKETS}/{number}/comments")
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert list(listed.json()) == ["items"]
    assert [c["body"] for c in items] == ["my first comment", SEED_COMMENT_BODY, "Try rebooting."]
    theirs = items[-1]
    assert list(theirs) == COMMENT_KEYS
    assert (theirs["is_client_author"], theirs["client_author_id"]) == (False, None)
    assert theirs["admin_author"] == {"name": "Sam Agent"}
    assert theirs["is_client_read"] is False
    ticket = (await call(world, "alice", "GET", f"{TICKETS}/{number}")).json()
    assert ticket["is_client_read"] is False

    got = await call(world, "alice", "GET", f"{V1}/comments/{reply_id}")
    assert got.status_code == 200 and got.json() == theirs

    up = await call(world, "alice", "POST", f"{V1}/comments/{reply_id}/vote", json=SEED_RATE)
    assert up.status_code == 200, up.text
    assert list(up.json()) == VOTE_KEYS
    assert (up.json()["score"], up.json()["comment"]) == (1, "string")
    down = await call(world, "alice", "POST", f"{V1}/comments/{reply_id}/vote", json={"score": -1})
    assert down.status_code == 200, down.text
    assert (down.json()["score"], down.json()["comment"]) == (-1, None)
    again = (await call(world, "alice", "GET", f"{V1}/comments/{reply_id}")).json()
    assert again["vote"] == down.json()
    native_reply = await world.get("agent", f"/api/v1/comments/{reply_id}")
    assert native_reply.json()["rating"]["score"] == -1


async def test_refused_comments_and_votes_change_nothing(world: World) -> None:
    number = (await create(world))["number"]
    mine = (
        await call(world, "alice", "POST", f"{TICKETS}/{number}/comments", json={"body": "hi"})
    ).json()
    reply = await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "ok"})
    reply_id = reply.json()["id"]
    url = f"{TICKETS}/{number}/comments"
    before = await world.row_counts()

    assert_error(await call(world, "alice", "POST", url, json={"body": ""}), 400, "body")
    assert_error(await call(world, "alice", "POST", url, json={"body": "b" * 50_001}), 400, "body")
    assert_error(await call(world, "alice", "POST", url, json={"files": []}), 400, "body", "files")
    assert_error(await call(world, "gus", "POST", url, json={"body": "hi"}), 404)
    assert_error(await call(world, "gus", "GET", url), 404)
    assert_error(await call(world, "gus", "GET", f"{V1}/comments/{reply_id}"), 404)
    vote = f"{V1}/comments/{reply_id}/vote"
    for score in (0, 2, "up"):
        assert_error(await call(world, "alice", "POST", vote, json={"score": score}), 400, "score")
    assert_error(await call(world, "gus", "POST", vote, json={"score": 1}), 404)
    # Only support's replies are rated.
    own = f"{V1}/comments/{mine['id']}/vote"
    assert_error(await call(world, "alice", "POST", own, json={"score": 1}), 409)
    assert_error(await call(world, "alice", "GET", f"{V1}/comments/999999"), 404)
    assert_error(await call(world, "alice", "GET", f"{TICKETS}/not-a-number"), 400)
    assert await world.row_counts() == before


async def test_errors_answered_before_routing_come_in_the_selectel_shape(world: World) -> None:
    before = await world.row_counts()

    response = await call(
        world,
        "alice",
        "POST",
        TICKETS,
        content=b'{"summary": "a\\u0000b", "comment_body": "x"}',
        headers={"Content-Type": "application/json"},
    )

    assert_error(response, 400)
    assert await world.row_counts() == before


async def test_a_split_fills_the_splitted_fields(world: World) -> None:
    number = (await create(world, "owner"))["number"]
    second = await call(
        world, "owner", "POST", f"{TICKETS}/{number}/comments", json={"body": "other matter"}
    )
    assert second.status_code == 200, second.text
    split = await world.post(
        "agent", f"/api/v1/tickets/{number}/split", json={"comment_ids": [second.json()["id"]]}
    )
    assert split.status_code == 201, split.text
    new = split.json()["number"]

    ticket = await call(world, "owner", "GET", f"{TICKETS}/{new}")
    assert ticket.json()["splitted_from_ticket_number"] == number
    [moved] = (await call(world, "owner", "GET", f"{TICKETS}/{new}/comments")).json()["items"]
    assert moved["body"] == "other matter"
    assert moved["splitted_to_ticket_number"] == new
    assert TIME_RE.match(moved["splitted_at"])
    assert moved["splitted_at"] == ticket.json()["created_at"]
    [kept] = (await call(world, "owner", "GET", f"{TICKETS}/{number}/comments")).json()["items"]
    assert (kept["splitted_at"], kept["splitted_to_ticket_number"]) == (None, None)
    source = await call(world, "owner", "GET", f"{TICKETS}/{number}")
    assert source.json()["splitted_from_ticket_number"] is None
