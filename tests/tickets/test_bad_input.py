"""Bad input gets a clear error, never a 500, and changes nothing (DESIGN.md 1.4 and 4).

Every rejection here is checked for the same things: its status code, an RFC 9457 body
(``application/problem+json`` with ``type`` and ``detail``), the offending field named in
``errors[].field`` where there is one, and a database that holds exactly the rows it held
before, ticket-number counter included.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from helpwire.settings import Settings
from tests.conftest import World

TICKETS = "/api/v1/tickets"
VALIDATION = "/problems/validation-error"
ILLEGAL_MOVE = "/problems/illegal-transition"


def assert_problem(
    response: httpx.Response, *, status: int, type_: str, field: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == type_
    assert problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]], problem
    return problem


async def assert_rejected(
    world: World,
    who: str,
    method: str,
    url: str,
    *,
    status: int,
    type_: str,
    field: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """Send a request that must be refused, and prove it left the database as it was."""
    before = await world.row_counts()
    response = await world.request(who, method, url, **kwargs)
    problem = assert_problem(response, status=status, type_=type_, field=field)
    assert await world.row_counts() == before
    return problem


GOOD = {"subject": "Printer on fire", "body": "It is really on fire."}


def without(key: str) -> dict[str, Any]:
    return {k: v for k, v in GOOD.items() if k != key}


# (what is wrong, the body sent, the field the answer must name)
INVALID_TICKETS: list[tuple[str, dict[str, Any], str]] = [
    ("missing subject", without("subject"), "subject"),
    ("missing body", without("body"), "body"),
    ("subject as a number", {**GOOD, "subject": 123}, "subject"),
    ("subject null", {**GOOD, "subject": None}, "subject"),
    ("tags as a string", {**GOOD, "tags": "urgent"}, "tags"),
    ("a tag with spaces", {**GOOD, "tags": ["two words"]}, "tags[0]"),
    ("files as an object", {**GOOD, "files": {"id": "x"}}, "files"),
    ("unknown priority", {**GOOD, "priority": "critical"}, "priority"),
    ("unknown type", {**GOOD, "type": "outage"}, "type"),
    ("unknown access level", {**GOOD, "access_level": "everyone"}, "access_level"),
    ("unknown body format", {**GOOD, "body_format": "rtf"}, "body_format"),
    ("a body of 50001 characters", {**GOOD, "body": "x" * 50_001}, "body"),
    ("a subject of 256 characters", {**GOOD, "subject": "s" * 256}, "subject"),
    ("an empty subject", {**GOOD, "subject": ""}, "subject"),
    ("a whitespace-only subject", {**GOOD, "subject": " \t\n "}, "subject"),
    ("an empty body", {**GOOD, "body": ""}, "body"),
    ("a whitespace-only body", {**GOOD, "body": "  \n\t "}, "body"),
    ("an unknown field", {**GOOD, "colour": "red"}, "colour"),
    ("an unknown context field", {**GOOD, "context": {"mood": "sad"}}, "context.mood"),
    ("an unknown topic", {**GOOD, "topic": "gardening"}, "topic"),
    (
        "a subtopic of another topic",
        {**GOOD, "topic": "network", "subtopic": "invoices"},
        "subtopic",
    ),
    ("a subtopic without its topic", {**GOOD, "subtopic": "invoices"}, "subtopic"),
    ("an unknown project", {**GOOD, "projects": ["p9"]}, "projects"),
    ("a project of another account", {**GOOD, "projects": ["g1"]}, "projects"),
    ("project_users without projects", {**GOOD, "access_level": "project_users"}, "projects"),
    ("a follow-up of a ticket that does not exist", {**GOOD, "follow_up_of": 4242}, "follow_up_of"),
    ("a file that was never uploaded", {**GOOD, "files": ["no-such-file"]}, "files"),
]


async def test_an_invalid_ticket_is_refused_with_the_offending_field_named(
    world: World, subtests: pytest.Subtests
) -> None:
    for what, body, field in INVALID_TICKETS:
        with subtests.test(what):
            await assert_rejected(
                world,
                "alice",
                "POST",
                TICKETS,
                json=body,
                status=422,
                type_=VALIDATION,
                field=field,
            )


async def test_a_body_of_exactly_50000_characters_is_accepted(world: World) -> None:
    ticket = await world.create_ticket("alice", body="x" * 50_000)
    comments = await world.get("alice", f"{TICKETS}/{ticket['number']}/comments")
    assert len(comments.json()["items"][0]["body"]) == 50_000


async def test_a_subject_is_stored_without_surrounding_whitespace(world: World) -> None:
    ticket = await world.create_ticket("alice", subject="  Printer on fire \n")
    assert ticket["subject"] == "Printer on fire"


async def test_a_ticket_that_is_not_a_json_object_is_refused(world: World) -> None:
    for body in ([GOOD], "a ticket", 42, None):
        await assert_rejected(
            world, "alice", "POST", TICKETS, json=body, status=422, type_=VALIDATION
        )


async def test_a_body_that_is_not_json_is_a_400(world: World) -> None:
    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        content=b'{"subject": "Printer on fire", "body": ',
        headers={"Content-Type": "application/json"},
        status=400,
        type_="/problems/malformed-request",
    )


async def test_a_request_body_over_the_limit_is_a_413(world: World, settings: Settings) -> None:
    limit = settings.max_request_bytes
    huge = {**GOOD, "attributes": {"blob": "x" * limit}}

    problem = await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        json=huge,
        status=413,
        type_="/problems/payload-too-large",
    )

    assert problem["max_bytes"] == limit


async def test_a_streamed_request_body_over_the_limit_is_a_413_too(
    world: World, settings: Settings
) -> None:
    """Without Content-Length the limit is enforced while the body arrives."""
    limit = settings.max_request_bytes

    async def chunks() -> Any:
        yield b'{"subject": "big", "body": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        content=chunks(),
        headers={"Content-Type": "application/json"},
        status=413,
        type_="/problems/payload-too-large",
    )


# --- files on a comment --------------------------------------------------------------------


async def test_eleven_files_on_one_comment_are_refused(world: World) -> None:
    ticket = await world.create_ticket("alice")
    uploads = [await world.upload("alice", f"shot-{i}.txt", b"%d" % i) for i in range(11)]
    ids = [u["id"] for u in uploads]

    problem = await assert_rejected(
        world,
        "alice",
        "POST",
        f"{TICKETS}/{ticket['number']}/comments",
        json={"body": "Screenshots attached.", "files": ids},
        status=422,
        type_=VALIDATION,
        field="files",
    )
    assert "10" in problem["detail"]
    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        json={**GOOD, "files": ids},
        status=422,
        type_=VALIDATION,
        field="files",
    )

    # Nothing got attached by the refused requests: ten of them still go on one comment.
    ten = await world.post(
        "alice",
        f"{TICKETS}/{ticket['number']}/comments",
        json={"body": "Ten will do.", "files": ids[:10]},
    )
    assert ten.status_code == 201, ten.text
    assert [f["id"] for f in ten.json()["files"]] == ids[:10]


async def test_a_file_someone_else_uploaded_cannot_be_attached(world: World) -> None:
    ticket = await world.create_ticket("alice", access_level="all_users")
    bobs = await world.upload("bob", "bob-secret.txt", b"bob's secret")

    await assert_rejected(
        world,
        "alice",
        "POST",
        f"{TICKETS}/{ticket['number']}/comments",
        json={"body": "Look at this", "files": [bobs["id"]]},
        status=422,
        type_=VALIDATION,
        field="files",
    )
    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        json={**GOOD, "files": [bobs["id"]]},
        status=422,
        type_=VALIDATION,
        field="files",
    )
    # And bob's file is still his alone.
    assert (await world.get("alice", f"/api/v1/files/{bobs['id']}")).status_code == 404


async def test_a_file_attached_already_cannot_be_attached_again(world: World) -> None:
    upload = await world.upload("alice", "log.txt", b"boom")
    ticket = await world.create_ticket("alice", files=[upload["id"]])

    await assert_rejected(
        world,
        "alice",
        "POST",
        f"{TICKETS}/{ticket['number']}/comments",
        json={"body": "Same log again", "files": [upload["id"]]},
        status=422,
        type_=VALIDATION,
        field="files",
    )


# --- lifecycle -----------------------------------------------------------------------------


async def _closed_ticket(world: World) -> int:
    ticket = await world.create_ticket("alice")
    closed = await world.post("alice", f"{TICKETS}/{ticket['number']}/close", json={})
    assert closed.status_code == 200, closed.text
    return int(ticket["number"])


async def test_illegal_moves_are_a_409_with_the_reason(world: World) -> None:
    open_ticket = (await world.create_ticket("alice"))["number"]
    answered = await world.post(
        "agent", f"{TICKETS}/{open_ticket}/comments", json={"body": "On it."}
    )
    assert answered.status_code == 201
    closed = await _closed_ticket(world)

    refused: list[tuple[str, str, str, dict[str, Any] | None]] = [
        ("agent", "PATCH", f"{TICKETS}/{open_ticket}", {"status": "new"}),
        ("agent", "PATCH", f"{TICKETS}/{closed}", {"status": "open"}),
        ("alice", "POST", f"{TICKETS}/{closed}/comments", {"body": "One more thing"}),
        ("agent", "POST", f"{TICKETS}/{closed}/comments", {"body": "Note", "internal": True}),
        ("alice", "POST", f"{TICKETS}/{closed}/close", {}),
        ("agent", "POST", f"{TICKETS}/{closed}/escalate", None),
        ("alice", "POST", f"{TICKETS}/{open_ticket}/reopen", {"body": "Reopen please"}),
        ("alice", "POST", f"{TICKETS}/{open_ticket}/rating", {"score": 5}),
    ]
    for who, method, url, body in refused:
        problem = await assert_rejected(
            world, who, method, url, json=body, status=409, type_=ILLEGAL_MOVE
        )
        assert problem["detail"], (method, url)

    current = await world.get("alice", f"{TICKETS}/{closed}")
    assert current.json()["status"] == "closed"


async def test_escalating_twice_is_refused_the_second_time(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    first = await world.post("agent", f"{TICKETS}/{number}/escalate")
    assert first.status_code == 200, first.text

    problem = await assert_rejected(
        world, "agent", "POST", f"{TICKETS}/{number}/escalate", status=409, type_=ILLEGAL_MOVE
    )
    assert "urgent" in problem["detail"]


async def test_a_customer_may_not_change_staff_only_fields(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await assert_rejected(
        world,
        "alice",
        "PATCH",
        f"{TICKETS}/{number}",
        json={"priority": "high", "status": "solved"},
        status=403,
        type_="/problems/forbidden",
        field="status",
    )
    # A customer may lower or raise the priority, but urgent comes only by escalating.
    problem = await assert_rejected(
        world,
        "alice",
        "PATCH",
        f"{TICKETS}/{number}",
        json={"priority": "urgent"},
        status=403,
        type_="/problems/forbidden",
    )
    assert "escalat" in problem["detail"]
    ticket = (await world.get("alice", f"{TICKETS}/{number}")).json()
    assert (ticket["priority"], ticket["status"]) == ("normal", "new")


# --- preconditions and idempotency ---------------------------------------------------------


async def test_a_change_based_on_a_stale_etag_is_a_412(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    first_read = await world.get("agent", f"{TICKETS}/{number}")
    stale = first_read.headers["etag"]
    moved = await world.patch(
        "agent2",
        f"{TICKETS}/{number}",
        json={"priority": "high"},
        headers={"If-Match": stale},
    )
    assert moved.status_code == 200, moved.text
    assert moved.headers["etag"] != stale

    problem = await assert_rejected(
        world,
        "agent",
        "PATCH",
        f"{TICKETS}/{number}",
        json={"priority": "low"},
        headers={"If-Match": stale},
        status=412,
        type_="/problems/precondition-failed",
    )

    assert moved.headers["etag"] in problem["detail"]
    assert (await world.get("agent", f"{TICKETS}/{number}")).json()["priority"] == "high"


async def test_an_idempotency_key_reused_with_another_body_is_a_422(world: World) -> None:
    key = {"Idempotency-Key": "create-printer-ticket"}
    first = await world.post("alice", TICKETS, json=GOOD, headers=key)
    assert first.status_code == 201, first.text

    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        json={**GOOD, "subject": "Something else"},
        headers=key,
        status=422,
        type_="/problems/idempotency-key-reused",
        field="Idempotency-Key",
    )


async def test_an_idempotency_key_reused_on_another_route_is_a_422(world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    key = {"Idempotency-Key": "k1"}
    first = await world.post("alice", TICKETS, json=GOOD, headers=key)
    assert first.status_code == 201, first.text

    await assert_rejected(
        world,
        "alice",
        "POST",
        f"{TICKETS}/{number}/comments",
        json={"body": GOOD["body"]},
        headers=key,
        status=422,
        type_="/problems/idempotency-key-reused",
    )


async def test_an_idempotency_key_of_a_failed_request_is_not_remembered(world: World) -> None:
    key = {"Idempotency-Key": "retry-me"}
    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        json={**GOOD, "topic": "gardening"},
        headers=key,
        status=422,
        type_=VALIDATION,
        field="topic",
    )

    fixed = await world.post("alice", TICKETS, json={**GOOD, "topic": "billing"}, headers=key)

    assert fixed.status_code == 201, fixed.text
    assert "idempotent-replayed" not in fixed.headers


async def test_an_overlong_idempotency_key_is_refused(world: World) -> None:
    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        json=GOOD,
        headers={"Idempotency-Key": "k" * 256},
        status=422,
        type_=VALIDATION,
        field="Idempotency-Key",
    )


# --- queries -------------------------------------------------------------------------------


BAD_LIST_QUERIES: list[tuple[dict[str, str], str]] = [
    ({"status": "open,sleeping"}, "status"),
    ({"priority": "critical"}, "priority"),
    ({"type": "outage"}, "type"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"limit": "many"}, "limit"),
    ({"sort": "colour"}, "sort"),
    ({"order": "sideways"}, "order"),
    ({"cursor": "not-a-cursor"}, "cursor"),
    ({"q": "!!!"}, "q"),
]


async def test_a_bad_list_query_names_the_offending_parameter(
    world: World, subtests: pytest.Subtests
) -> None:
    for params, field in BAD_LIST_QUERIES:
        with subtests.test(str(params)):
            response = await world.get("agent", TICKETS, params=params)
            assert_problem(response, status=422, type_=VALIDATION, field=field)
