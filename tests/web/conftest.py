"""Web UI tests without a browser: forms posted as a browser posts them, through the app.

`web.sign_in("alice")` gives alice a password, signs her in through the sign-in form and
returns a client that carries her session cookie; `page.csrf` is the token from the last
page it loaded. The browser tests (test_browser.py) drive a real Chromium instead."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from helpwire.accounts import service as accounts
from tests.conftest import World

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """One person's browser: a cookie jar and the CSRF token of the last page."""

    client: httpx.AsyncClient
    csrf: str = ""
    pages: list[str] = field(default_factory=list)

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response = await self.client.get(url, **kwargs)
        if (
            "text/html" in response.headers.get("content-type", "")
            and 'name="csrf_token"' in response.text
        ):
            self.csrf = csrf_of(response.text)
        return response

    async def post(
        self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        headers = {"Origin": "http://helpwire.test", **kwargs.pop("headers", {})}
        return await self.client.post(url, data=form, headers=headers, **kwargs)


@dataclass
class WebHarness:
    app: FastAPI
    world: World
    opened: list[httpx.AsyncClient] = field(default_factory=list)

    def anonymous(self) -> Browser:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://helpwire.test"
        )
        self.opened.append(client)
        return Browser(client=client)

    async def set_password(self, username: str, password: str = PASSWORD) -> None:
        async with self.world.database.writing() as session:
            user = await accounts.get_user(session, username=username)
            await accounts.update_user(session, user=user, password=password)

    async def sign_in(self, username: str) -> Browser:
        await self.set_password(username)
        browser = self.anonymous()
        await browser.get("/login")
        response = await browser.post("/login", {"login": username, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return browser


@pytest.fixture
async def web(app: FastAPI, world: World) -> AsyncIterator[WebHarness]:
    harness = WebHarness(app=app, world=world)
    yield harness
    for client in harness.opened:
        await client.aclose()
