"""HELPWIRE_METRICS_TOKEN: with it set, /metrics answers only to that bearer token."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr

from helpwire.settings import Settings
from tests.conftest import World

TOKEN = "metrics-scraper-token"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


async def test_metrics_need_the_metrics_token(client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert "helpwire_http_requests" not in anonymous.text

    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401

    scraper = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraper.status_code == 200
    assert "helpwire_http_requests" in scraper.text


async def test_an_api_token_is_not_the_metrics_token(world: World) -> None:
    answer = await world.client.get("/metrics", headers=world.headers("admin"))
    assert answer.status_code == 401


async def test_probes_need_no_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).status_code == 200
