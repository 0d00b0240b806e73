"""/docs and /redoc work with no internet: every script, style and icon they load is
served by helpwire itself."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


def loaded_urls(html: str) -> list[str]:
    """What the page makes the browser fetch: src=, href=, spec-url= and Swagger's url:."""
    found = re.findall(r'(?:src|href|spec-url)="([^"]*)"', html)
    found += re.findall(r"\burl: '([^']*)'", html)
    return found


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_docs_pages_load_only_from_helpwire(client: httpx.AsyncClient, page: str) -> None:
    answer = await client.get(page)
    assert answer.status_code == 200
    urls = loaded_urls(answer.text)
    assert "/openapi.json" in urls
    assets = [u for u in urls if u != "/openapi.json"]
    assert any(u.endswith(".js") for u in assets), urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
    for url in assets:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        suffix = url[url.rindex(".") :]
        assert ASSET_TYPES[suffix] in asset.headers["content-type"], url
        assert len(asset.content) > 1000, url


async def test_the_swagger_page_can_run_its_own_script(client: httpx.AsyncClient) -> None:
    """The page starts Swagger UI with an inline script: a Content-Security-Policy like the
    web UI's (script-src 'self') would leave it blank."""
    answer = await client.get("/docs")
    assert "<script>" in answer.text
    assert "content-security-policy" not in answer.headers
