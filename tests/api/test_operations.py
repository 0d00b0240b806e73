"""Health, readiness, metrics, request ids and the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from helpwire.app import create_app
from helpwire.settings import Settings
from tests.conftest import World


async def test_healthz_and_readyz_answer_ok(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


async def test_readyz_is_503_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite'}",
        files_dir=tmp_path / "files",
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ready = await c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"


async def test_readyz_is_503_when_the_schema_is_behind(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'blank.db'}", files_dir=tmp_path / "f")
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            ready = await c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["schema"] is None


async def test_every_answer_carries_a_request_id_and_keeps_the_clients_own(world: World) -> None:
    generated = await world.client.get("/healthz")
    assert len(generated.headers["x-request-id"]) >= 16
    kept = await world.client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    insane = await world.client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"})
    assert insane.headers["x-request-id"] != "bad id\twith spaces"


async def test_the_request_id_lands_in_the_ticket_context_when_the_body_has_none(
    world: World,
) -> None:
    response = await world.post(
        "alice",
        "/api/v1/tickets",
        json={"subject": "s", "body": "b"},
        headers={"X-Request-ID": "req-777"},
    )
    assert response.json()["context"]["request_id"] == "req-777"
    own = await world.post(
        "alice",
        "/api/v1/tickets",
        json={"subject": "s", "body": "b", "context": {"request_id": "from-body"}},
        headers={"X-Request-ID": "req-778"},
    )
    assert own.json()["context"]["request_id"] == "from-body"


async def test_metrics_count_requests_by_route_and_tickets_created(world: World) -> None:
    await world.create_ticket("alice")
    await world.get("alice", "/api/v1/tickets/1")
    metrics = (await world.client.get("/metrics")).text
    assert 'helpwire_tickets_created_total{via="api"} 1.0' in metrics
    assert 'route="/api/v1/tickets/{number}"' in metrics
    assert 'helpwire_http_request_duration_seconds_bucket{le="0.005",method="GET",' in metrics


async def test_unknown_paths_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == "/problems/not-found"
    wrong_method = await client.delete("/api/v1/tickets")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["status"] == 405


async def test_the_openapi_document_describes_the_native_api(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path, method in [
        ("/api/v1/tickets", "post"),
        ("/api/v1/tickets", "get"),
        ("/api/v1/tickets/{number}", "get"),
        ("/api/v1/tickets/{number}", "patch"),
        ("/api/v1/tickets/{number}/comments", "post"),
        ("/api/v1/tickets/{number}/comments", "get"),
        ("/api/v1/comments/{comment_id}", "get"),
        ("/api/v1/tickets/{number}/close", "post"),
        ("/api/v1/tickets/{number}/reopen", "post"),
        ("/api/v1/tickets/{number}/escalate", "post"),
        ("/api/v1/tickets/{number}/rating", "post"),
        ("/api/v1/comments/{comment_id}/rating", "post"),
        ("/api/v1/tickets/{number}/events", "get"),
        ("/api/v1/files", "post"),
        ("/api/v1/files/{file_id}", "get"),
        ("/api/v1/me", "get"),
        ("/api/v1/topics", "get"),
    ]:
        assert method in paths[path], f"{method.upper()} {path} missing"
    create = paths["/api/v1/tickets"]["post"]
    assert "application/problem+json" in create["responses"]["422"]["content"]
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
