"""Rate limits: per token and per client address, reads and writes apart, on the native API,
the faces and the web UI; counts shared through Redis by several processes.

Redis is found at HELPWIRE_TEST_REDIS_URL (default redis://127.0.0.1:6379/0); when it is
unreachable its test is skipped with the reason, unless HELPWIRE_REQUIRE_REDIS=1, when it
fails instead.

The window is an hour, so that no test straddles the edge of one (the counts are kept per
window aligned on the clock) and no test waits for one to pass.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from helpwire.app import create_app
from helpwire.settings import Settings
from tests.conftest import World, build_world

REDIS_URL = os.environ.get("HELPWIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
REQUIRE_REDIS = os.environ.get("HELPWIRE_REQUIRE_REDIS") == "1"
WINDOW = 3600
LIMITS = {
    "rate_limit_enabled": True,
    "rate_limit_window_seconds": WINDOW,
    "rate_limit_reads": 5,
    "rate_limit_writes": 3,
    "rate_limit_anonymous_reads": 4,
    "rate_limit_anonymous_writes": 2,
}
STATE = re.compile(r'^"(?P<name>[a-z-]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')
NEW_TICKET = {"subject": "Something is wrong", "body": "Please help."}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update=LIMITS)


def remaining(response: httpx.Response) -> tuple[str, int, int]:
    match = STATE.match(response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    return match["name"], int(match["r"]), int(match["t"])


def assert_refused(response: httpx.Response, policy: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= WINDOW
    name, left, _ = remaining(response)
    assert (name, left) == (policy, 0)


async def exhaust_writes(world: World, who: str) -> None:
    for _ in range(3):
        assert (await world.post(who, "/api/v1/tickets", json=NEW_TICKET)).status_code == 201


async def test_every_answer_says_where_the_caller_stands(world: World) -> None:
    answers = [await world.get("owner", "/api/v1/tickets") for _ in range(3)]
    assert all(a.status_code == 200 for a in answers)
    assert {a.headers["RateLimit-Policy"] for a in answers} == {f'"read";q=5;w={WINDOW}'}
    states = [remaining(a) for a in answers]
    assert [r for _, r, _ in states] == [4, 3, 2]
    assert all(0 <= t <= WINDOW for _, _, t in states)

    created = await world.post("owner", "/api/v1/tickets", json=NEW_TICKET)
    assert created.headers["RateLimit-Policy"] == f'"write";q=3;w={WINDOW}'
    assert remaining(created)[:2] == ("write", 2)


async def test_native_api_refuses_writes_over_the_limit_as_a_problem(world: World) -> None:
    await exhaust_writes(world, "owner")
    before = await world.row_counts()

    refused = await world.post("owner", "/api/v1/tickets", json=NEW_TICKET)

    assert_refused(refused, "write")
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "/problems/rate-limited"
    assert problem["status"] == 429
    assert problem["retry_after"] == int(refused.headers["Retry-After"])
    assert "may write 3 times" in problem["detail"]
    assert await world.row_counts() == before
    # Reads have a pool of their own, and every token has its own.
    assert (await world.get("owner", "/api/v1/tickets")).status_code == 200
    assert (await world.post("alice", "/api/v1/tickets", json=NEW_TICKET)).status_code == 201


async def test_reads_are_refused_after_their_own_limit(world: World) -> None:
    for _ in range(5):
        assert (await world.get("agent", "/api/v1/tickets")).status_code == 200
    assert_refused(await world.get("agent", "/api/v1/tickets"), "read")


async def test_each_face_refuses_in_its_own_format(world: World) -> None:
    await exhaust_writes(world, "owner")
    token = world.tokens["owner"]
    basic = base64.b64encode(f"{token}:".encode()).decode()
    client = world.client

    ucloud = await client.post(
        "/api/support/ticket",
        json={"subject": "s", "message": "m"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_refused(ucloud, "write")
    assert ucloud.json() == {"why": "Too many requests", "errorCode": None}

    cocalc = await client.post(
        "/api/v1/create_support_ticket",
        json={"email_address": "owner@acme.test", "subject": "s", "body": "b"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert_refused(cocalc, "write")
    assert set(cocalc.json()) == {"error"}

    selectel = await client.post(
        "/selectel/tickets/v1/tickets", json={"title": "s"}, headers={"X-Token": token}
    )
    assert_refused(selectel, "write")
    assert selectel.json()["error"]["code"] == 429

    f5xc = await client.post(
        "/api/web/namespaces/system/customer_supports",
        json={},
        headers={"Authorization": f"APIToken {token}"},
    )
    assert_refused(f5xc, "write")
    assert f5xc.json()["code"] == 8  # RESOURCE_EXHAUSTED


async def test_anonymous_callers_share_a_pool_per_address(app: FastAPI, world: World) -> None:
    for _ in range(4):
        assert (await world.client.get("/login")).status_code == 200
    page = await world.client.get("/login")
    assert_refused(page, "address-read")
    assert page.headers["content-type"].startswith("text/html")

    # Another address has a pool of its own; a signed-in caller counts against its token.
    elsewhere = httpx.ASGITransport(app=app, client=("192.0.2.7", 4000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://helpwire.test") as other:
        assert (await other.get("/login")).status_code == 200
    assert (await world.get("owner", "/api/v1/tickets")).status_code == 200


async def test_made_up_tokens_do_not_escape_the_address_pool(world: World) -> None:
    # A token seen to work keeps working whatever else comes from its address.
    assert (await world.get("owner", "/api/v1/tickets")).status_code == 200
    for _ in range(2):
        guess = {"Authorization": f"Bearer {secrets.token_urlsafe(16)}"}
        assert (await world.client.get("/api/v1/tickets", headers=guess)).status_code == 401
    guess = {"Authorization": f"Bearer {secrets.token_urlsafe(16)}"}
    refused = await world.client.get("/api/v1/tickets", headers=guess)
    assert_refused(refused, "failed-auth")
    assert (await world.get("owner", "/api/v1/tickets")).status_code == 200


async def test_probes_are_not_limited(world: World) -> None:
    for _ in range(6):
        answer = await world.client.get("/healthz")
        assert answer.status_code == 200
        assert "RateLimit" not in answer.headers


async def test_limits_can_be_turned_off(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"rate_limit_enabled": False}))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://helpwire.test") as c:
            answers = [await c.get("/login") for _ in range(6)]
    assert all(a.status_code == 200 and "RateLimit" not in a.headers for a in answers)


async def test_an_unreachable_redis_serves_requests_unlimited(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 1 on this machine refuses connections.
    app = create_app(settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"}))
    with caplog.at_level(logging.WARNING, logger="helpwire.ratelimit"):
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                answers = [await c.get("/login") for _ in range(6)]
    assert all(a.status_code == 200 and "RateLimit" not in a.headers for a in answers)
    warnings = [r for r in caplog.records if r.name == "helpwire.ratelimit"]
    assert len(warnings) == 1  # once a minute, not once a request
    assert "without limits" in warnings[0].getMessage()


def test_a_redis_url_that_is_not_one_is_refused_at_start(settings: Settings) -> None:
    with pytest.raises(ValueError, match="HELPWIRE_REDIS_URL"):
        create_app(settings.model_copy(update={"redis_url": "http://127.0.0.1:6379"}))


async def _redis_reachable() -> str | None:
    from coredis import Redis

    client: Redis[bytes] = Redis.from_url(REDIS_URL, connect_timeout=1.0)
    try:
        await client.ping()
        return None
    except Exception as exc:
        return f"Redis at {REDIS_URL} is not reachable: {exc.__class__.__name__}: {exc}"


@pytest.fixture
async def shared_redis() -> AsyncIterator[str]:
    reason = await _redis_reachable()
    if reason is not None:
        if REQUIRE_REDIS:
            pytest.fail(reason + " (HELPWIRE_REQUIRE_REDIS=1)")
        pytest.skip(reason)
    yield REDIS_URL


async def test_processes_sharing_redis_share_the_counts(
    settings: Settings, shared_redis: str
) -> None:
    shared = settings.model_copy(update={"redis_url": shared_redis})
    first, second = create_app(shared), create_app(shared)
    async with LifespanManager(first), LifespanManager(second):
        one = httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://t")
        two = httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://t")
        async with one, two:
            world = await build_world(one, first.state.database)
            headers = world.headers("owner")
            created = [
                await client.post("/api/v1/tickets", json=NEW_TICKET, headers=headers)
                for client in (one, two, one)
            ]
            assert [c.status_code for c in created] == [201, 201, 201]
            assert [remaining(c)[1] for c in created] == [2, 1, 0]
            assert_refused(
                await two.post("/api/v1/tickets", json=NEW_TICKET, headers=headers), "write"
            )
    await asyncio.sleep(0)  # let the clients' connections close with the loop still running


async def test_made_up_on_behalf_of_names_do_not_escape_the_address_pool(world: World) -> None:
    # Each On-Behalf-Of is a principal, so a pool, of its own; names that are refused (403)
    # count against the address as made-up tokens do, and a stream of them is stopped.
    assert (await world.get("acme-portal", "/api/v1/tickets")).status_code == 200
    for _ in range(2):
        made_up = {"On-Behalf-Of": f"nobody-{secrets.token_hex(4)}"}
        answer = await world.get("acme-portal", "/api/v1/tickets", headers=made_up)
        assert answer.status_code == 403, answer.text
    made_up = {"On-Behalf-Of": f"nobody-{secrets.token_hex(4)}"}
    assert_refused(
        await world.get("acme-portal", "/api/v1/tickets", headers=made_up), "failed-auth"
    )
    # The service token, seen to work, goes on.
    assert (await world.get("acme-portal", "/api/v1/tickets")).status_code == 200
