"""The UI in a real browser: Debian's Chromium, headless, driven by Playwright, against a
real `helpwire serve` process.

Each page's screenshot is saved under test-artifacts/screenshots/ for a reviewer to look
at. Every page opened here listens for dialogs: none may ever open (an XSS that ran
``alert`` would show as one)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.live_server import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    SCREENSHOTS,
    LiveServer,
    require_chromium,
    start_live_server,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
Page = playwright_sync.Page
Browser = playwright_sync.Browser
expect = playwright_sync.expect

DESKTOP = {"width": 1280, "height": 860}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    yield from start_live_server(tmp_path_factory.mktemp("live"))


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    require_chromium()
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


class Person:
    """One person's browser context (own cookies), which records any dialog."""

    def __init__(self, browser: Any, server: LiveServer, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(viewport=viewport, base_url=server.url)
        self.context.set_default_timeout(10_000)
        self.dialogs: list[str] = []
        self.page: Any = self.context.new_page()
        self.page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def sign_in(self, username: str) -> None:
        self.page.goto("/login")
        self.page.get_by_label("User name or e-mail").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.get_by_role("button", name="Sign out")).to_be_visible()

    def shot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        assert self.dialogs == [], f"dialogs opened: {self.dialogs}"
        self.context.close()
