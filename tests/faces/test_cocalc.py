"""The CoCalc face: CoCalc's API clients file and list support tickets unchanged (seed 003)."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import World

CREATE = "/api/v1/create_support_ticket"
LIST = "/api/v1/get_support_tickets"

# The seed's example as curl sends it: inside the single quotes the backslashes at the
# ends of the lines are not shell line continuations, so they travel with the JSON.
SEED_BODY = r"""{"email_address":"jd@example.com", \
       "subject":"package xyz", \
       "account_id":"291f43c1-deae-431c-b763-712307fa6859", \
       "body":"please install package xyz for use with Python3", \
       "tags":["member"], \
       "location":"/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/worksheet.sagews", \
       "info":{"user_agent":"Mozilla/5.0","course":"cc8f1243-d573-4562-9aab-c15a3872d683"}}"""
SEED_LOCATION_URL = (
    "https://cocalc.com/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/worksheet.sagews"
)
SEED_COURSE_URL = "https://cocalc.com/projects/cc8f1243-d573-4562-9aab-c15a3872d683"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ZENDESK_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MISSING = "invalid parameters 'Error: misc.defaults -- TypeError: property '{}' must be specified'"
UNEXPECTED = (
    "invalid parameters 'Error: misc.defaults -- TypeError: got an unexpected argument '{}''"
)
MINIMAL = {"email_address": "alice@acme.test", "subject": "Help", "body": "Please."}


def basic(world: World, who: str) -> dict[str, str]:
    """What ``curl -u <key>:`` sends."""
    credentials = base64.b64encode(f"{world.tokens[who]}:".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


async def create(world: World, who: str, **options: Any) -> httpx.Response:
    return await world.client.post(CREATE, json=options, headers=basic(world, who))


async def created_ticket(world: World, answer: httpx.Response) -> dict[str, Any]:
    """The ticket a create_support_ticket answer names, as an agent reads it natively."""
    assert answer.status_code == 200, answer.text
    number = answer.json()["url"].rsplit("/", 1)[1]
    response = await world.get("agent", f"/api/v1/tickets/{number}")
    assert response.status_code == 200, response.text
    ticket: dict[str, Any] = response.json()
    assert ticket["uid"] == answer.json()["id"]
    return ticket


async def first_comment(world: World, number: int) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/comments")
    assert response.status_code == 200, response.text
    comment: dict[str, Any] = response.json()["items"][0]
    return comment


def assert_cocalc_error(response: httpx.Response, status: int, error: str | None = None) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    if error is not None:
        assert body["error"] == error
    return str(body["error"])


async def test_the_seed_example_files_a_ticket_with_every_field_it_sent(world: World) -> None:
    response = await world.client.post(
        CREATE,
        content=SEED_BODY,
        headers={**basic(world, "alice"), "Content-Type": "application/json"},
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert list(answer) == ["event", "id", "url"]
    assert answer["event"] == "support_ticket_url"
    assert UUID_RE.match(answer["id"])
    assert answer["url"] == "http://helpwire.test/tickets/1"
    ticket = await created_ticket(world, response)
    assert ticket["subject"] == "package xyz"
    assert ticket["type"] == "problem"
    assert ticket["status"] == "new"
    assert ticket["tags"] == ["member"]
    assert ticket["requester"]["username"] == "alice"
    assert ticket["attributes"] == {
        "cocalc": {
            "email_address": "jd@example.com",
            "account_id": "291f43c1-deae-431c-b763-712307fa6859",
        }
    }
    assert ticket["context"] == {
        "request_id": response.headers["X-Request-ID"],
        "user_agent": "Mozilla/5.0",
        "location": SEED_LOCATION_URL,
        "info": {"user_agent": "Mozilla/5.0", "course": "cc8f1243-d573-4562-9aab-c15a3872d683"},
        "via": "cocalc",
        "service": None,
    }
    comment = await first_comment(world, ticket["number"])
    assert comment["body"] == (
        "please install package xyz for use with Python3"
        f"\n\n{SEED_LOCATION_URL}"
        f"\n\nCourse: {SEED_COURSE_URL}"
    )
    assert comment["body_format"] == "markdown"


async def test_a_bearer_key_works_as_well(world: World) -> None:
    response = await world.client.post(CREATE, json=MINIMAL, headers=world.headers("alice"))

    ticket = await created_ticket(world, response)
    assert ticket["requester"]["username"] == "alice"


async def test_a_form_body_may_carry_info_and_tags_as_json_text(world: World) -> None:
    form = {
        "id": "5e1f0c5e-8e0a-4bd5-9e77-0d2f4cf3a001",
        "username": "Jane Doe",
        "email_address": "jd@example.com",
        "subject": "Kernel dies",
        "body": "The **Python 3** kernel dies on start.",
        "account_id": "291f43c1-deae-431c-b763-712307fa6859",
        "tags": '["member", "kernel"]',
        "info": '{"user_agent": "Mozilla/5.0 (X11)", "course": "not-a-project-id", "os": "Linux"}',
    }
    response = await world.client.post(CREATE, data=form, headers=basic(world, "bob"))

    ticket = await created_ticket(world, response)
    assert ticket["tags"] == ["kernel", "member"]
    assert ticket["attributes"] == {
        "cocalc": {
            "id": "5e1f0c5e-8e0a-4bd5-9e77-0d2f4cf3a001",
            "username": "Jane Doe",
            "email_address": "jd@example.com",
            "account_id": "291f43c1-deae-431c-b763-712307fa6859",
        }
    }
    assert ticket["context"]["info"] == {
        "user_agent": "Mozilla/5.0 (X11)",
        "course": "not-a-project-id",
        "os": "Linux",
    }
    assert ticket["context"]["user_agent"] == "Mozilla/5.0 (X11)"
    assert ticket["context"]["location"] is None
    comment = await first_comment(world, ticket["number"])
    # No location, and a course that is not a project id gets no link.
    assert comment["body"] == "The **Python 3** kernel dies on start.\n\nNo location provided."
    assert "<strong>Python 3</strong>" in comment["body_html"]


async def test_a_form_body_may_nest_with_brackets(world: World) -> None:
    body = urlencode(
        [
            ("email_address", "bob@acme.test"),
            ("subject", "Quota"),
            ("body", "More disk, please."),
            ("tags[]", "member"),
            ("tags[]", "quota"),
            ("info[user_agent]", "Mozilla/5.0 (Windows)"),
            ("info[course]", "0C7AE00C-EA43-4981-B454-90D4A8B1AC47"),
            ("info[quotas][disk]", "3000"),
            ("location", "projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/files/my notes.md"),
        ]
    )
    response = await world.client.post(
        CREATE,
        content=body,
        headers={**basic(world, "bob"), "Content-Type": "application/x-www-form-urlencoded"},
    )

    ticket = await created_ticket(world, response)
    assert ticket["tags"] == ["member", "quota"]
    assert ticket["context"]["info"] == {
        "user_agent": "Mozilla/5.0 (Windows)",
        "course": "0C7AE00C-EA43-4981-B454-90D4A8B1AC47",
        "quotas": {"disk": "3000"},
    }
    location = (
        "https://cocalc.com/projects/0010abe1-9283-4b42-b403-fa4fc1e3be57/files/my%20notes.md"
    )
    assert ticket["context"]["location"] == location
    comment = await first_comment(world, ticket["number"])
    assert comment["body"] == (
        f"More disk, please.\n\n{location}"
        "\n\nCourse: https://cocalc.com/projects/0c7ae00c-ea43-4981-b454-90d4a8b1ac47"
    )


async def test_a_repeated_form_field_is_a_list(world: World) -> None:
    body = urlencode([*MINIMAL.items(), ("tags", "member"), ("tags", "billing")])
    response = await world.client.post(
        CREATE,
        content=body,
        headers={**basic(world, "alice"), "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert (await created_ticket(world, response))["tags"] == ["billing", "member"]


@pytest.mark.parametrize(
    ("location", "url"),
    [
        (
            "https://cocalc.example.org/projects/x/files/a.py",
            "https://cocalc.example.org/projects/x/files/a.py",
        ),
        ("/../../etc/passwd", "https://cocalc.com/etc/passwd"),
        (
            "/projects/abc/files/a.ipynb?session=1#cell",
            "https://cocalc.com/projects/abc/files/a.ipynb?session=1#cell",
        ),
    ],
)
async def test_a_location_becomes_a_url_on_the_cocalc_site(
    world: World, location: str, url: str
) -> None:
    ticket = await created_ticket(world, await create(world, "alice", **MINIMAL, location=location))

    assert ticket["context"]["location"] == url
    assert (await first_comment(world, ticket["number"]))["body"] == f"Please.\n\n{url}"


async def test_the_user_agent_header_stands_in_when_info_has_none(world: World) -> None:
    response = await world.client.post(
        CREATE, json=MINIMAL, headers={**basic(world, "alice"), "User-Agent": "cocalc-api/1.0"}
    )

    ticket = await created_ticket(world, response)
    assert ticket["context"]["user_agent"] == "cocalc-api/1.0"
    assert ticket["context"]["info"] == {}


@pytest.mark.parametrize("missing", ["email_address", "subject", "body"])
async def test_each_required_option_must_be_given(world: World, missing: str) -> None:
    before = await world.row_counts()
    for value in ("absent", None):
        options = dict(MINIMAL)
        if value == "absent":
            del options[missing]
        else:
            options[missing] = None  # type: ignore[assignment]
        response = await create(world, "alice", **options)
        assert_cocalc_error(response, 400, MISSING.format(missing))
    assert await world.row_counts() == before


async def test_an_unknown_option_is_refused(world: World) -> None:
    before = await world.row_counts()
    response = await create(world, "alice", **MINIMAL, priority="urgent")
    assert_cocalc_error(response, 400, UNEXPECTED.format("priority"))
    # As in CoCalc, a missing option is named before an unexpected one.
    both = await create(world, "alice", subject="Help", body="Please.", priority="urgent")
    assert_cocalc_error(both, 400, MISSING.format("email_address"))
    form = await world.client.post(
        CREATE, data={**MINIMAL, "event": "create_support_ticket"}, headers=basic(world, "alice")
    )
    assert_cocalc_error(form, 400, UNEXPECTED.format("event"))
    assert await world.row_counts() == before


@pytest.mark.parametrize(
    ("options", "mentions"),
    [
        ({**MINIMAL, "subject": 42}, "'subject' must be a string"),
        ({**MINIMAL, "tags": "member"}, None),  # one tag as a string is fine; see below
        ({**MINIMAL, "tags": [1, 2]}, "'tags' must be a list of strings"),
        ({**MINIMAL, "tags": {"a": 1}}, "'tags' must be a list of strings"),
        ({**MINIMAL, "info": ["browser"]}, "'info' must be an object"),
        ({**MINIMAL, "info": "Mozilla"}, "'info' must be an object"),
        ({**MINIMAL, "location": 7}, "'location' must be a string"),
        ({**MINIMAL, "account_id": {"id": 1}}, "'account_id' must be a string"),
        ({**MINIMAL, "email_address": "not an address"}, "is not an email address"),
        ({**MINIMAL, "email_address": ""}, "is not an email address"),
        ({**MINIMAL, "subject": "   "}, "subject: must not be empty"),
        ({**MINIMAL, "body": ""}, "body: must not be empty"),
        ({**MINIMAL, "subject": "s" * 300}, "subject: "),
        ({**MINIMAL, "tags": ["has space"]}, "tags[0]: "),
        ({**MINIMAL, "body": "nul \u0000"}, "body: must not contain NUL"),
        ({**MINIMAL, "info": {"user_agent": "x" * 2000}}, "info.user_agent: "),
        ({**MINIMAL, "location": "/p/" + "x" * 3000}, "location: "),
    ],
)
async def test_an_option_of_the_wrong_shape_is_a_bad_request(
    world: World, options: dict[str, Any], mentions: str | None
) -> None:
    before = await world.row_counts()
    response = await world.client.post(CREATE, json=options, headers=basic(world, "alice"))

    if mentions is None:
        assert (await created_ticket(world, response))["tags"] == ["member"]
        return
    error = assert_cocalc_error(response, 400)
    assert mentions in error, error
    assert await world.row_counts() == before


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'{"subject": "a", \\ "body": "b"}', b"[1, 2]", b'"text"', b"\xff\xfe"],
)
async def test_a_body_that_is_not_an_options_object_is_a_bad_request(
    world: World, body: bytes
) -> None:
    response = await world.client.post(
        CREATE, content=body, headers={**basic(world, "alice"), "Content-Type": "application/json"}
    )

    error = assert_cocalc_error(response, 400)
    assert error.startswith("invalid parameters '"), error


async def test_a_body_beyond_the_service_s_limit_is_too_large(world: World) -> None:
    before = await world.row_counts()
    response = await create(world, "alice", **{**MINIMAL, "body": "x" * (1024 * 1024 + 1)})

    error = assert_cocalc_error(response, 413)
    assert "larger than the limit" in error
    assert await world.row_counts() == before


@pytest.mark.parametrize("path", [CREATE, LIST])
async def test_without_an_api_key_the_call_is_refused(world: World, path: str) -> None:
    before = await world.row_counts()
    no_key = await world.client.post(path, json=MINIMAL)
    assert_cocalc_error(no_key, 400, "You must provide authentication via an API key.")
    digest = await world.client.post(path, json=MINIMAL, headers={"Authorization": "Digest abc"})
    assert_cocalc_error(digest, 400, "Unknown authorization type 'Digest'")
    for authorization in (
        "Basic " + base64.b64encode(b"sk_abcdefQWERTY090900000000:").decode(),
        "Basic !!!",
        "Bearer sk_abcdefQWERTY090900000000",
        "Bearer",
    ):
        response = await world.client.post(
            path, json=MINIMAL, headers={"Authorization": authorization}
        )
        assert_cocalc_error(response, 401, "Invalid API key.")
    assert await world.row_counts() == before


async def test_get_support_tickets_lists_the_caller_s_tickets(world: World) -> None:
    first = (
        await create(world, "alice", **{**MINIMAL, "subject": "First", "location": "/projects/p"})
    ).json()
    native = await world.create_ticket("alice", subject="Filed natively", body="Native body.")
    second = (await create(world, "alice", **{**MINIMAL, "subject": "Second"})).json()
    await create(world, "bob", **{**MINIMAL, "subject": "Bob's"})
    for number, status in ((1, "pending"), (3, "solved")):
        moved = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": status})
        assert moved.status_code == 200, moved.text

    response = await world.client.post(LIST, headers=basic(world, "alice"))

    assert response.status_code == 200, response.text
    answer = response.json()
    assert list(answer) == ["event", "tickets"]
    assert answer["event"] == "support_tickets"
    tickets = answer["tickets"]
    assert [t["subject"] for t in tickets] == ["Second", "Filed natively", "First"]
    assert [t["id"] for t in tickets] == [second["id"], native["uid"], first["id"]]
    assert [t["status"] for t in tickets] == ["solved", "new", "pending"]
    assert [t["url"] for t in tickets] == [
        "http://helpwire.test/tickets/3",
        "http://helpwire.test/tickets/2",
        "http://helpwire.test/tickets/1",
    ]
    assert [t["description"] for t in tickets] == [
        "Please.\n\nNo location provided.",
        "Native body.",
        "Please.\n\nhttps://cocalc.com/projects/p",
    ]
    for listed in tickets:
        assert set(listed) == {
            "id",
            "subject",
            "description",
            "created_at",
            "updated_at",
            "status",
            "url",
        }
        assert ZENDESK_TIME_RE.match(listed["created_at"]), listed
        assert ZENDESK_TIME_RE.match(listed["updated_at"]), listed
    native_created = datetime.fromisoformat(native["created_at"]).astimezone(UTC)
    assert tickets[1]["created_at"] == native_created.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert tickets[0]["updated_at"] >= tickets[0]["created_at"]

    bobs = (await world.client.post(LIST, json={}, headers=basic(world, "bob"))).json()
    assert [t["subject"] for t in bobs["tickets"]] == ["Bob's"]
    carols = await world.client.post(LIST, data={}, headers=world.headers("carol"))
    assert carols.json() == {"event": "support_tickets", "tickets": []}


async def test_get_support_tickets_takes_only_an_id(world: World) -> None:
    query_id = {"id": "6a1e6b0a-1c55-4f2f-a7ec-b0b4bfb0a3f7"}
    accepted = await world.client.post(LIST, json=query_id, headers=basic(world, "alice"))
    assert accepted.status_code == 200, accepted.text

    refused = await world.client.post(
        LIST,
        json={"account_id": "291f43c1-deae-431c-b763-712307fa6859"},
        headers=basic(world, "alice"),
    )
    assert_cocalc_error(refused, 400, UNEXPECTED.format("account_id"))


@pytest.mark.parametrize("query_id", [False, 7, ["a"], {"id": "a"}])
async def test_get_support_tickets_refuses_an_id_that_is_not_a_string(
    world: World, query_id: Any
) -> None:
    """As create does: the document says a string (found by the fuzz tests)."""
    response = await world.client.post(LIST, json={"id": query_id}, headers=basic(world, "alice"))
    error = assert_cocalc_error(response, 400)
    assert "'id' must be a string" in error, error
