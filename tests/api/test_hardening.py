"""Hostile input gets a clear 4xx, never a 500, and changes nothing (DESIGN.md 1.4).

Integers too big for their columns, NUL characters, strings longer than their columns,
JSON nested too deep or holding NaN: each is refused with a problem naming the field, on
both engines, and the database holds exactly the rows it held before.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from helpwire.api.pagination import encode_cursor
from helpwire.app import create_app
from helpwire.settings import Settings
from tests.conftest import World

TICKETS = "/api/v1/tickets"
VALIDATION = "/problems/validation-error"
REUSED = "/problems/idempotency-key-reused"
NUL = "\u0000"
BIG = 10**20
INT32_OVER = 2**31
INT64_OVER = 2**63
WEBHOOK = {"name": "ops", "kind": "webhook", "url": "https://hooks.helpwire.test/in"}
# An e-mail channel's answer holds no secret (its SMTP password is never shown), so it is
# replayed like any other creation; a webhook's answer holds its signing secret.
MAIL_CHANNEL = {
    "name": "mail",
    "kind": "email",
    "email": {"host": "smtp.helpwire.test", "from": "hw@helpwire.test", "to": ["a@helpwire.test"]},
}


async def counts(world: World) -> dict[str, int]:
    """Every row count the harness knows, and the channels too."""
    found = await world.row_counts()
    async with world.database.reader() as session:
        for table in ("channels", "deliveries"):
            found[table] = int(
                (await session.execute(text(f"SELECT count(*) FROM {table}"))).one()[0]
            )
    return found


def assert_problem(
    response: httpx.Response, *, status: int, type_: str, field: str | None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["type"] == type_
    assert problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"]
    if field is not None:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem


async def assert_rejected(
    world: World,
    who: str,
    method: str,
    url: str,
    *,
    field: str | None,
    status: int = 422,
    type_: str = VALIDATION,
    **kwargs: Any,
) -> dict[str, Any]:
    before = await counts(world)
    response = await world.request(who, method, url, **kwargs)
    problem = assert_problem(response, status=status, type_=type_, field=field)
    assert await counts(world) == before
    return problem


async def create_channel(world: World, **fields: Any) -> dict[str, Any]:
    response = await world.post("admin", "/api/v1/channels", json={**WEBHOOK, **fields})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


# --- 1. integers too big for their columns --------------------------------------------


async def test_path_ids_too_big_for_their_columns_are_a_422_naming_the_parameter(
    world: World, subtests: pytest.Subtests
) -> None:
    ticket = await world.create_ticket("alice")
    channel = await create_channel(world)
    cases: list[tuple[str, str, str, str, dict[str, Any]]] = [
        ("alice", "GET", f"{TICKETS}/{BIG}", "number", {}),
        ("alice", "GET", f"{TICKETS}/{INT64_OVER}", "number", {}),
        ("alice", "PATCH", f"{TICKETS}/{BIG}", "number", {"json": {"subject": "x"}}),
        ("alice", "POST", f"{TICKETS}/{BIG}/comments", "number", {"json": {"body": "x"}}),
        ("alice", "GET", f"{TICKETS}/{BIG}/comments", "number", {}),
        ("alice", "GET", f"{TICKETS}/{BIG}/events", "number", {}),
        ("alice", "POST", f"{TICKETS}/{BIG}/close", "number", {"json": {}}),
        ("alice", "POST", f"{TICKETS}/{BIG}/read", "number", {}),
        ("alice", "GET", f"{TICKETS}/0", "number", {}),
        ("alice", "GET", f"/api/v1/comments/{INT32_OVER}", "comment_id", {}),
        ("alice", "GET", f"/api/v1/comments/{BIG}", "comment_id", {}),
        (
            "alice",
            "POST",
            f"/api/v1/comments/{INT32_OVER}/rating",
            "comment_id",
            {"json": {"score": 1}},
        ),
        ("admin", "DELETE", f"/api/v1/tokens/{INT32_OVER}", "token_id", {}),
        ("admin", "GET", f"/api/v1/channels/{INT32_OVER}", "channel_id", {}),
        ("admin", "PATCH", f"/api/v1/channels/{BIG}", "channel_id", {"json": {"name": "x"}}),
        ("admin", "DELETE", f"/api/v1/channels/{INT32_OVER}", "channel_id", {}),
        ("admin", "POST", f"/api/v1/channels/{INT32_OVER}/test", "channel_id", {}),
        ("admin", "GET", f"/api/v1/channels/{INT32_OVER}/deliveries", "channel_id", {}),
        ("admin", "GET", f"/api/v1/deliveries/{INT64_OVER}", "delivery_id", {}),
        ("admin", "POST", f"/api/v1/deliveries/{BIG}/redeliver", "delivery_id", {}),
    ]
    for who, method, url, field, kwargs in cases:
        with subtests.test(f"{method} {url}"):
            await assert_rejected(world, who, method, url, field=field, **kwargs)
    # The largest values the columns hold are simply not there.
    for who, url in [
        ("alice", f"{TICKETS}/{2**63 - 1}"),
        ("alice", f"/api/v1/comments/{2**31 - 1}"),
        ("admin", f"/api/v1/channels/{2**31 - 1}"),
        ("admin", f"/api/v1/deliveries/{2**63 - 1}"),
    ]:
        with subtests.test(f"GET {url}"):
            assert (await world.get(who, url)).status_code == 404
    assert (await world.get("alice", f"{TICKETS}/{ticket['number']}")).status_code == 200
    assert (await world.get("admin", f"/api/v1/channels/{channel['id']}")).status_code == 200


async def test_body_integers_too_big_for_their_columns_are_a_422_naming_the_field(
    world: World, subtests: pytest.Subtests
) -> None:
    topic = {"key": "hw", "names": {"en": "Hardware"}}
    cases: list[tuple[str, str, str, dict[str, Any], str]] = [
        (
            "alice",
            "POST",
            TICKETS,
            {"subject": "s", "body": "b", "follow_up_of": BIG},
            "follow_up_of",
        ),
        (
            "alice",
            "POST",
            TICKETS,
            {"subject": "s", "body": "b", "follow_up_of": 0},
            "follow_up_of",
        ),
        ("admin", "POST", "/api/v1/topics", {**topic, "position": INT32_OVER}, "position"),
        ("admin", "POST", "/api/v1/topics", {**topic, "position": -(2**31) - 1}, "position"),
        (
            "admin",
            "POST",
            "/api/v1/topics",
            {**topic, "subtopics": [{"key": "a", "names": {"en": "A"}, "position": BIG}]},
            "subtopics[0].position",
        ),
        ("admin", "PATCH", "/api/v1/topics/billing", {"position": BIG}, "position"),
        ("alice", "POST", "/api/v1/comments/1/rating", {"score": BIG}, "score"),
    ]
    for who, method, url, body, field in cases:
        with subtests.test(f"{url} {field}"):
            await assert_rejected(world, who, method, url, json=body, field=field)


async def test_a_cursor_holding_an_id_too_big_for_its_column_is_a_422_on_cursor(
    world: World, subtests: pytest.Subtests
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    channel = await create_channel(world)
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"{TICKETS}/{number}/comments", {"after": INT32_OVER}),
        (f"{TICKETS}/{number}/comments", {"after": BIG}),
        (f"{TICKETS}/{number}/comments", {"after": True}),
        (f"{TICKETS}/{number}/events", {"after": INT64_OVER}),
        (f"/api/v1/channels/{channel['id']}/deliveries", {"before": INT64_OVER}),
        (f"/api/v1/channels/{channel['id']}/deliveries", {"before": -BIG}),
    ]
    for url, payload in cases:
        with subtests.test(f"{url} {payload}"):
            await assert_rejected(
                world,
                "admin",
                "GET",
                url,
                params={"cursor": encode_cursor(payload)},
                field="cursor",
            )
    # The largest ids the columns hold page normally (to nothing).
    for url, payload in [
        (f"{TICKETS}/{number}/comments", {"after": 2**31 - 1}),
        (f"{TICKETS}/{number}/events", {"after": 2**63 - 1}),
        (f"/api/v1/channels/{channel['id']}/deliveries", {"before": 2**63 - 1}),
    ]:
        with subtests.test(f"{url} {payload}"):
            page = await world.get("admin", url, params={"cursor": encode_cursor(payload)})
            assert page.status_code == 200, page.text


# --- 2. NUL characters ---------------------------------------------------------------


async def test_a_nul_character_anywhere_in_a_json_body_is_a_422_naming_the_field(
    world: World, subtests: pytest.Subtests
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    good = {"subject": "Printer", "body": "On fire."}
    cases: list[tuple[str, str, str, dict[str, Any], str]] = [
        ("alice", "POST", TICKETS, {**good, "subject": f"a{NUL}b"}, "subject"),
        ("alice", "POST", TICKETS, {**good, "body": f"a{NUL}"}, "body"),
        ("alice", "POST", TICKETS, {**good, "attributes": {"k": f"v{NUL}"}}, "attributes.k"),
        ("alice", "POST", TICKETS, {**good, "attributes": {f"k{NUL}": "v"}}, "attributes"),
        (
            "alice",
            "POST",
            TICKETS,
            {**good, "attributes": {"list": ["ok", {"deep": NUL}]}},
            "attributes.list[1].deep",
        ),
        (
            "alice",
            "POST",
            TICKETS,
            {**good, "context": {"user_agent": f"UA{NUL}"}},
            "context.user_agent",
        ),
        ("alice", "POST", TICKETS, {**good, "tags": [f"t{NUL}"]}, "tags[0]"),
        ("alice", "POST", f"{TICKETS}/{number}/comments", {"body": f"x{NUL}y"}, "body"),
        ("alice", "PATCH", f"{TICKETS}/{number}", {"subject": f"{NUL}"}, "subject"),
        (
            "admin",
            "POST",
            "/api/v1/users",
            {"username": "nul", "role": "agent", "real_name": f"N{NUL}"},
            "real_name",
        ),
        ("admin", "POST", "/api/v1/accounts", {"key": "nul", "name": f"N{NUL}"}, "name"),
        (
            "admin",
            "POST",
            "/api/v1/topics",
            {"key": "nul", "names": {"en": f"N{NUL}"}},
            "names.en",
        ),
        ("admin", "POST", "/api/v1/channels", {**WEBHOOK, "name": f"N{NUL}"}, "name"),
    ]
    for who, method, url, body, field in cases:
        with subtests.test(f"{method} {url} {field}"):
            await assert_rejected(world, who, method, url, json=body, field=field)


async def test_a_nul_character_in_the_query_or_path_is_a_422(
    world: World, subtests: pytest.Subtests
) -> None:
    await world.create_ticket("alice")
    for name in ("tag", "assignee", "requester", "topic", "account", "project", "q"):
        with subtests.test(name):
            await assert_rejected(
                world, "agent", "GET", TICKETS, params={name: f"a{NUL}b"}, field=name
            )
    for url in ("/api/v1/files/a%00b", "/api/v1/users/a%00b", "/api/v1/accounts/%00"):
        with subtests.test(url):
            await assert_rejected(world, "admin", "GET", url, field="path")


async def test_a_nul_character_in_a_form_encoded_body_is_a_422(world: World) -> None:
    await assert_rejected(
        world,
        "alice",
        "POST",
        TICKETS,
        content=b"subject=a%00b&body=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        field="subject",
    )


async def test_an_escaped_backslash_before_u0000_is_text_not_a_nul(world: World) -> None:
    # The JSON text "a\\u0000b" is the six characters a \ u 0 0 0 0 b: no NUL in it.
    subject = "a\\u0000b"
    raw = json.dumps({"subject": subject, "body": "\\\\u0000 and \\\\\\\\u0000"})
    assert "\\\\u0000" in raw
    response = await world.post(
        "alice", TICKETS, content=raw.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["subject"] == subject


async def test_nul_bytes_inside_an_uploaded_file_are_kept(world: World) -> None:
    content = b"\x00binary\x00\\u0000"
    uploaded = await world.upload("alice", "blob.bin", content, "application/octet-stream")
    assert uploaded["size"] == len(content)
    download = await world.get("alice", f"/api/v1/files/{uploaded['id']}")
    assert download.content == content


# --- 3. strings longer than their columns ---------------------------------------------


async def test_admin_strings_longer_than_their_columns_are_a_422_naming_the_field(
    world: World, subtests: pytest.Subtests
) -> None:
    user = {"username": "long", "role": "agent"}
    email = "a" * 310 + "@example.com"
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", "/api/v1/users", {**user, "real_name": "r" * 256}, "real_name"),
        ("POST", "/api/v1/users", {**user, "email": email}, "email"),
        ("POST", "/api/v1/users", {**user, "username": "u" * 151}, "username"),
        ("PATCH", "/api/v1/users/agent", {"real_name": "r" * 256}, "real_name"),
        ("PATCH", "/api/v1/users/agent", {"email": email}, "email"),
        ("POST", "/api/v1/accounts", {"key": "long", "name": "n" * 256}, "name"),
        ("POST", "/api/v1/accounts", {"key": "k" * 65}, "key"),
        ("POST", "/api/v1/accounts/acme/projects", {"key": "p9", "name": "n" * 256}, "name"),
        ("POST", "/api/v1/tokens", {"username": "agent", "label": "l" * 256}, "label"),
        ("POST", "/api/v1/topics", {"key": "long", "names": {"en": "n" * 256}}, "names.en"),
        ("POST", "/api/v1/topics", {"key": "k" * 65, "names": {"en": "n"}}, "key"),
        ("POST", "/api/v1/channels", {**WEBHOOK, "name": "n" * 101}, "name"),
        (
            "POST",
            "/api/v1/channels",
            {**WEBHOOK, "url": "https://x.test/" + "p" * 2048},
            "url",
        ),
        ("POST", "/api/v1/channels", {**WEBHOOK, "secret": "whsec_" + "A" * 300}, "secret"),
        (
            "POST",
            "/api/v1/channels",
            {**WEBHOOK, "filters": {"topics": ["t" * 65]}},
            "filters.topics[0]",
        ),
        (
            "POST",
            "/api/v1/channels",
            {
                "name": "mail",
                "kind": "email",
                "email": {"host": "smtp.test", "from": "a@b.test", "to": [email]},
            },
            "email.to[0]",
        ),
    ]
    for method, url, body, field in cases:
        with subtests.test(f"{url} {field}"):
            await assert_rejected(world, "admin", method, url, json=body, field=field)
    # Exactly at the limit is fine.
    created = await world.post(
        "admin",
        "/api/v1/users",
        json={**user, "real_name": "r" * 255, "email": "b" * 308 + "@example.com"},
    )
    assert created.status_code == 201, created.text
    label = await world.post(
        "admin", "/api/v1/tokens", json={"username": "long", "label": "l" * 255}
    )
    assert label.status_code == 201, label.text


# --- 4. JSON nested too deep, NaN and Infinity ---------------------------------------


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"n": value}
    return value


async def test_attributes_and_info_nested_too_deep_are_a_422(
    world: World, subtests: pytest.Subtests
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    good = {"subject": "s", "body": "b"}
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", TICKETS, {**good, "attributes": nested(300)}, "attributes"),
        ("POST", TICKETS, {**good, "attributes": nested(33)}, "attributes"),
        ("POST", TICKETS, {**good, "context": {"info": nested(300)}}, "context.info"),
        ("PATCH", f"{TICKETS}/{number}", {"attributes": nested(300)}, "attributes"),
    ]
    for method, url, body, field in cases:
        with subtests.test(f"{method} {field} {json.dumps(body)[:60]}"):
            await assert_rejected(world, "agent", method, url, json=body, field=field)
    deepest = await world.post("agent", TICKETS, json={**good, "attributes": nested(32)})
    assert deepest.status_code == 201, deepest.text
    assert deepest.json()["attributes"] == nested(32)


async def test_nan_and_infinity_in_attributes_and_info_are_a_422(
    world: World, subtests: pytest.Subtests
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    cases = [
        ("POST", TICKETS, '{"subject": "s", "body": "b", "attributes": {"x": NaN}}', "attributes"),
        (
            "POST",
            TICKETS,
            '{"subject": "s", "body": "b", "attributes": {"x": [1, -Infinity]}}',
            "attributes",
        ),
        (
            "POST",
            TICKETS,
            '{"subject": "s", "body": "b", "context": {"info": {"x": Infinity}}}',
            "context.info",
        ),
        ("PATCH", f"{TICKETS}/{number}", '{"attributes": {"x": NaN}}', "attributes"),
    ]
    for method, url, raw, field in cases:
        with subtests.test(raw):
            await assert_rejected(
                world,
                "agent",
                method,
                url,
                content=raw.encode(),
                headers={"Content-Type": "application/json"},
                field=field,
            )


# --- 5. an unexpected error still carries the request id ------------------------------


async def test_an_unexpected_error_is_a_500_problem_with_the_request_id_logged(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            with caplog.at_level(logging.ERROR, logger="helpwire"):
                response = await c.get("/boom", headers={"X-Request-ID": "trace-500"})
    assert_problem(response, status=500, type_="/problems/internal-error", field=None)
    assert response.headers["x-request-id"] == "trace-500"
    assert "kaboom" not in response.text
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert logged, caplog.text
    assert getattr(logged[0], "request_id", None) == "trace-500"
    assert logged[0].exc_info is not None


# --- 7. readiness does not leak database errors --------------------------------------


async def test_readyz_does_not_show_the_database_error_to_callers(tmp_path: Any) -> None:
    missing = tmp_path / "no-such-dir" / "db.sqlite"
    settings = Settings(database_url=f"sqlite:///{missing}", files_dir=tmp_path / "files")
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ready = await c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    assert "no-such-dir" not in ready.text and "sqlite" not in ready.text.lower()


# --- 9. Idempotency-Key on every creating POST ----------------------------------------


CREATING_POSTS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("/api/v1/accounts", {"key": "initech"}, {"key": "initrode"}),
    ("/api/v1/accounts/acme/projects", {"key": "p7"}, {"key": "p8"}),
    (
        "/api/v1/users",
        {"username": "milton", "role": "agent"},
        {"username": "bill", "role": "agent"},
    ),
    (
        "/api/v1/topics",
        {"key": "stapler", "names": {"en": "Stapler"}},
        {"key": "tps", "names": {"en": "TPS"}},
    ),
    ("/api/v1/channels", MAIL_CHANNEL, {**MAIL_CHANNEL, "name": "other"}),
]


async def test_every_creating_post_replays_its_answer_for_a_retried_idempotency_key(
    world: World, subtests: pytest.Subtests
) -> None:
    for index, (url, body, other) in enumerate(CREATING_POSTS):
        with subtests.test(url):
            key = {"Idempotency-Key": f"retry-{index}"}
            first = await world.post("admin", url, json=body, headers=key)
            assert first.status_code == 201, first.text
            after_first = await counts(world)
            again = await world.post("admin", url, json=body, headers=key)
            assert again.status_code == 201, again.text
            assert again.headers["idempotent-replayed"] == "true"
            assert again.json() == first.json()
            assert await counts(world) == after_first
            await assert_rejected(
                world,
                "admin",
                "POST",
                url,
                json=other,
                headers=key,
                type_=REUSED,
                field="Idempotency-Key",
            )


async def test_a_retried_token_post_mints_no_second_token_and_shows_none(
    world: World,
) -> None:
    # The token is not kept with the key (tests/api/test_idempotent_secrets.py): a retry
    # is told which token the first request created, without the token.
    key = {"Idempotency-Key": "mint-once"}
    body = {"username": "agent", "label": "deploy"}
    first = await world.post("admin", "/api/v1/tokens", json=body, headers=key)
    assert first.status_code == 201, first.text
    before = await counts(world)
    again = await world.post("admin", "/api/v1/tokens", json=body, headers=key)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/secret-shown-once"
    assert again.json()["created"]["id"] == first.json()["id"]
    assert first.json()["token"] not in again.text
    assert await counts(world) == before
    await assert_rejected(
        world,
        "admin",
        "POST",
        "/api/v1/tokens",
        json={"username": "agent", "label": "other"},
        headers=key,
        type_=REUSED,
        field="Idempotency-Key",
    )


async def test_a_retried_channel_post_creates_one_channel_with_one_secret(world: World) -> None:
    # The secret is not kept with the key (tests/notify/test_secrets_at_rest.py): a retry is
    # told which channel the first request created, without its secret or URL.
    key = {"Idempotency-Key": "one-channel"}
    first = await world.post("admin", "/api/v1/channels", json=WEBHOOK, headers=key)
    assert first.status_code == 201, first.text
    before = await counts(world)
    again = await world.post("admin", "/api/v1/channels", json=WEBHOOK, headers=key)
    assert again.status_code == 409, again.text
    assert again.json()["type"] == "/problems/secret-shown-once"
    assert again.json()["created"]["id"] == first.json()["id"]
    assert first.json()["secret"] not in again.text
    assert await counts(world) == before
    assert len((await world.get("admin", "/api/v1/channels")).json()) == 1
    await assert_rejected(
        world,
        "admin",
        "POST",
        "/api/v1/channels",
        json={**WEBHOOK, "name": "another"},
        headers=key,
        type_=REUSED,
        field="Idempotency-Key",
    )
