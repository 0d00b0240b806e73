"""In Chromium: an admin's change shows in the audit log, and a person is erased from
their page, the erasure confirmed by typing their name."""

from __future__ import annotations

from collections.abc import Iterator
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
expect = playwright_sync.expect


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    yield from start_live_server(tmp_path_factory.mktemp("live-rights"))


@pytest.fixture(scope="module")
def admin_page(live_server: LiveServer) -> Iterator[Any]:
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": 1280, "height": 860}, base_url=live_server.url
        )
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("User name or e-mail").fill("admin")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        yield page
        context.close()
        browser.close()


def test_a_change_in_the_admin_pages_is_in_the_audit_log(admin_page: Any) -> None:
    page = admin_page
    page.goto("/admin/users/agent")
    page.get_by_label("Real name").fill("Samuel Agent")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved agent.")

    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Audit log").click()
    row = page.locator("#audit-list tbody tr").first
    expect(row).to_contain_text("user.updated")
    expect(row).to_contain_text("admin")
    expect(row.locator("del")).to_have_text("Sam Agent")
    expect(row.locator("ins")).to_have_text("Samuel Agent")
    page.get_by_label("What").select_option("channel")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("Nothing changed yet.")).to_be_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto("/admin/audit")
    page.screenshot(path=str(SCREENSHOTS / "admin-audit.png"), full_page=True)


def test_an_admin_erases_a_person_after_typing_their_name(admin_page: Any) -> None:
    page = admin_page
    page.goto("/admin/users/alice")
    erase = page.get_by_role("button", name="Erase personal data")
    page.get_by_label("Type alice to confirm").fill("alicia")
    erase.click()
    expect(page.get_by_role("alert")).to_have_text("Type alice to confirm the erasure.")

    page.get_by_label("Type alice to confirm").fill("alice")
    page.get_by_role("button", name="Erase personal data").click()
    expect(page.get_by_role("status")).to_contain_text("Erased: the user is now erased-")
    expect(page.locator("#data-rights")).to_contain_text("nothing personal is kept")
    expect(page.get_by_role("heading", level=1)).to_contain_text("User erased-")
