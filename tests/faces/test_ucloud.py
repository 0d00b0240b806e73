"""The UCloud face: UCloud's own clients file tickets with helpwire unchanged (seed 001)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.relay import Relay
from helpwire.settings import Settings
from tests.conftest import World
from tests.notify.conftest import Receiver

PATH = "/api/support/ticket"
# The seed's curl command, byte for byte: its odd Content-Type and its indented body.
SEED_CONTENT_TYPE = "content-type: application/json; charset=utf-8"
SEED_BODY = """{
    "subject": "My subject",
    "message": "Consequatur harum excepturi nemo consequatur laboriosam repellendus vel quos."
}"""
SEED_MESSAGE = "Consequatur harum excepturi nemo consequatur laboriosam repellendus vel quos."


def ucloud_headers(world: World, who: str, **extra: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {world.tokens[who]}",
        "Content-Type": SEED_CONTENT_TYPE,
        **extra,
    }


async def file_ticket(
    world: World, who: str, subject: str, message: str, **headers: str
) -> httpx.Response:
    return await world.client.post(
        PATH,
        content=json.dumps({"subject": subject, "message": message}),
        headers=ucloud_headers(world, who, **headers),
    )


async def newest_ticket(world: World, requester: str) -> dict[str, Any]:
    """The requester's newest ticket as an agent reads it on the native API."""
    page = await world.get("agent", f"/api/v1/tickets?requester={requester}&limit=1")
    assert page.status_code == 200, page.text
    [summary] = page.json()["items"]
    response = await world.get("agent", f"/api/v1/tickets/{summary['number']}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    return ticket


async def first_comment(world: World, number: int) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/comments")
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["items"][0]
    return comment


def assert_ucloud_error(response: httpx.Response, status: int, why: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"why": why, "errorCode": None}


async def test_the_seed_example_files_a_ticket_and_answers_an_empty_object(world: World) -> None:
    response = await world.client.post(
        PATH,
        content=SEED_BODY,
        headers={**ucloud_headers(world, "alice"), "User-Agent": "curl/8.5.0", "Accept": "*/*"},
    )

    assert response.status_code == 200, response.text
    assert response.json() == {}
    ticket = await newest_ticket(world, "alice")
    assert ticket["subject"] == "My subject"
    assert ticket["type"] == "question"
    assert ticket["status"] == "new"
    assert ticket["requester"] == {
        "username": "alice",
        "real_name": "Alice A",
        "email": "alice@acme.test",
        "role": "customer",
    }
    assert ticket["account"] == "acme"
    assert ticket["projects"] == []
    assert ticket["context"] == {
        "request_id": response.headers["X-Request-ID"],
        "user_agent": "curl/8.5.0",
        "location": None,
        "info": {"user_projects": ["p1"]},
        "via": "ucloud",
        "service": None,
    }
    comment = await first_comment(world, ticket["number"])
    assert comment["body"] == SEED_MESSAGE
    assert comment["author"]["username"] == "alice"
    assert not comment["internal"]


async def test_the_project_header_names_the_current_project(world: World) -> None:
    response = await file_ticket(
        world,
        "alice",
        "Job stuck",
        "My job has been queued for a day.",
        Project="p1",
        **{"X-Request-ID": "ucloud-req-42", "User-Agent": "Mozilla/5.0 (X11) Firefox/126.0"},
    )
    assert response.status_code == 200, response.text

    ticket = await newest_ticket(world, "alice")
    assert ticket["projects"] == ["p1"]
    assert ticket["context"]["info"] == {"project": "p1", "user_projects": ["p1"]}
    assert ticket["context"]["request_id"] == "ucloud-req-42"
    assert ticket["context"]["user_agent"] == "Mozilla/5.0 (X11) Firefox/126.0"


async def test_a_project_helpwire_does_not_know_is_kept_only_as_context(world: World) -> None:
    ucloud_project_id = "0c7ae00c-ea43-4981-b454-90d4a8b1ac47"
    for project in (ucloud_project_id, "g1"):  # g1 is a project of another account
        response = await file_ticket(world, "owner", "Quota", "Need more.", Project=project)
        assert response.status_code == 200, response.text

        ticket = await newest_ticket(world, "owner")
        assert ticket["projects"] == []
        assert ticket["context"]["info"] == {"project": project}


@pytest.mark.parametrize(
    ("message", "expected_type"),
    [
        ("BUG: the file browser shows nothing", "bug"),
        ("SUGGESTION: dark mode, please", "suggestion"),
        ("  bug: lower case still counts", "bug"),
        ("A question about BUG: reports", "question"),
    ],
)
async def test_a_message_prefix_sets_the_type(
    world: World, message: str, expected_type: str
) -> None:
    response = await file_ticket(world, "bob", "Feedback", message)
    assert response.status_code == 200, response.text

    ticket = await newest_ticket(world, "bob")
    assert ticket["type"] == expected_type
    assert (await first_comment(world, ticket["number"]))["body"] == message


async def test_a_service_token_files_for_one_of_its_customers(world: World) -> None:
    response = await file_ticket(
        world, "acme-portal", "From the portal", "Hello.", **{"On-Behalf-Of": "bob"}
    )
    assert response.status_code == 200, response.text

    ticket = await newest_ticket(world, "bob")
    assert ticket["context"]["service"] == "acme-portal"
    assert ticket["context"]["info"] == {"user_projects": ["p2"]}


async def test_without_a_valid_token_the_answer_is_unauthorized(world: World) -> None:
    before = await world.row_counts()
    for authorization in (None, "Bearer not-a-token", "Token abc"):
        headers = {"Content-Type": SEED_CONTENT_TYPE}
        if authorization:
            headers["Authorization"] = authorization
        response = await world.client.post(PATH, content=SEED_BODY, headers=headers)
        assert_ucloud_error(response, 401, "Unauthorized")
    assert await world.row_counts() == before


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"", "Invalid request received (no body?)"),
        (b"null", "Invalid request received (no body?)"),
        (b"{not json", "Invalid request received (wrong type)"),
        (b"[]", "Invalid request received (wrong type)"),
        (b'"My subject"', "Invalid request received (wrong type)"),
        (b'{"subject": "My subject"}', "Invalid request received (wrong type)"),
        (b'{"message": "Hello"}', "Invalid request received (wrong type)"),
        (b'{"subject": 42, "message": "Hello"}', "Invalid request received (wrong type)"),
        (b'{"subject": "S", "message": ["Hello"]}', "Invalid request received (wrong type)"),
        (b'{"subject": "S", "message": NaN}', "Invalid request received (wrong type)"),
        (b'{"subject": "S", "message": "\xff"}', "Invalid request received (wrong type)"),
    ],
)
async def test_a_body_ucloud_cannot_read_is_a_bad_request(
    world: World, body: bytes, why: str
) -> None:
    before = await world.row_counts()
    response = await world.client.post(PATH, content=body, headers=ucloud_headers(world, "alice"))

    assert_ucloud_error(response, 400, why)
    assert await world.row_counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ('{"subject": "", "message": "Hello"}', "subject"),
        ('{"subject": "   ", "message": "Hello"}', "subject"),
        ('{"subject": "S", "message": ""}', "message"),
        ('{"subject": "S", "message": " \\n "}', "message"),
        ('{"subject": "' + "x" * 300 + '", "message": "Hello"}', "subject"),
        ('{"subject": "S", "message": "nul \\u0000 here"}', "message"),
    ],
)
async def test_an_invalid_field_is_a_bad_request_that_names_it(
    world: World, body: str, field: str
) -> None:
    before = await world.row_counts()
    response = await world.client.post(PATH, content=body, headers=ucloud_headers(world, "alice"))

    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"why", "errorCode"} and error["errorCode"] is None
    assert error["why"].startswith(f"{field}: "), error
    assert await world.row_counts() == before


@pytest.mark.parametrize(
    "message",
    [
        "x" * (512 * 1024 + 1),  # over UCloud's limit
        "é" * (256 * 1024 + 1),  # 512 KiB and 2 bytes of UTF-8
        "y" * 60_000,  # within UCloud's limit, beyond what helpwire keeps in one comment
        "z" * (1024 * 1024 + 1),  # beyond the service's limit for any request body
    ],
)
async def test_a_message_too_large_is_refused_as_too_large(world: World, message: str) -> None:
    before = await world.row_counts()
    response = await file_ticket(world, "alice", "Logs", message)

    assert_ucloud_error(response, 413, "Too large")
    assert await world.row_counts() == before


async def test_the_eleventh_ticket_within_an_hour_is_too_many(world: World) -> None:
    for n in range(10):
        response = await file_ticket(world, "carol", f"Ticket {n}", "Hello.")
        assert response.status_code == 200, response.text
    before = await world.row_counts()

    refused = await file_ticket(world, "carol", "Ticket 11", "Hello.")

    assert_ucloud_error(refused, 429, "Too many requests")
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 3600
    assert await world.row_counts() == before
    # The limit is per user, and tickets filed on other faces do not count.
    assert (await file_ticket(world, "bob", "Mine", "Hello.")).status_code == 200
    await world.create_ticket("carol")


async def test_the_chat_message_reads_like_ucloud_s_own(
    world: World, receiver: Receiver, settings: Settings
) -> None:
    channel = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "support", "kind": "slack", "url": receiver.url, "rate_per_second": 100},
    )
    assert channel.status_code == 201, channel.text
    response = await file_ticket(
        world,
        "alice",
        "Cannot start my job",
        "BUG: it fails at once\nwith exit code 137",
        Project="p1",
        **{"X-Request-ID": "ucloud-req-7", "User-Agent": "Mozilla/5.0 (Macintosh) Safari/605"},
    )
    assert response.status_code == 200, response.text
    # The same without any User-Agent at all.
    request = world.client.build_request(
        "POST",
        PATH,
        content=b'{"subject": "No browser", "message": "Sent from a script"}',
        headers=ucloud_headers(world, "alice"),
    )
    del request.headers["User-Agent"]
    assert (await world.client.send(request)).status_code == 200

    relay = Relay(
        world.database,
        base_url=settings.base_url,
        policy=AddressPolicy.from_setting(settings.channel_allowed_networks),
    )
    try:
        assert await relay.run_once() == 2
    finally:
        await relay.aclose()
    received = [r.json() for r in await receiver.wait_for(2)]
    texts = {
        ("script" if "No browser" in m["text"] else "browser"): m["text"]
        + "\n"
        + "\n".join(b["text"]["text"] for b in m["blocks"] if b["type"] == "section")
        for m in received
    }
    for expected in (
        "Bug, priority normal",  # the type, from the BUG: prefix
        "*User information*",
        "*Username:* alice",
        "*Security role:* customer",
        "*Real name:* Alice A",
        "*Email:* alice@acme.test",
        "*Account:* Acme Corp (acme)",
        "*Projects:* p1",
        "*Technical info*",
        "*Request ID:* ucloud-req-7",
        "*User agent:* Mozilla/5.0 (Macintosh) Safari/605",
        "*Subject:* Cannot start my job",
        "> BUG: it fails at once\n> with exit code 137",
    ):
        assert expected in texts["browser"], expected
    assert "*User agent:* Missing UA" in texts["script"]


async def test_the_face_can_be_switched_off(settings: Settings) -> None:
    application = create_app(settings.model_copy(update={"faces": "cocalc"}))
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            response = await c.post(
                PATH, content=SEED_BODY, headers={"Content-Type": SEED_CONTENT_TYPE}
            )
            assert response.status_code == 404
            other = await c.post("/api/v1/create_support_ticket", json={})
            assert other.status_code != 404
