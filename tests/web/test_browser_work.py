"""The agent's day in a real browser (Chromium, as tests/web/test_browser.py): a ticket
filed for a customer who phoned, a reply sent as pending with the keyboard, the list saved
as a view in the sidebar, and the view's tickets ticked and solved at once."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.test_browser import (  # noqa: F401  (fixtures, used by name)
    DESKTOP,
    PHONE,
    _check_page,
    chromium,
    live_server,
    people,
)

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect


def test_an_agents_day_filing_replying_saving_a_view_and_bulk_solving(
    people: Any,  # noqa: F811  (the fixture)
) -> None:
    agent = people("agent", DESKTOP)
    page = agent.page
    page.goto("/agent")
    # c: a new ticket for a customer.
    page.keyboard.press("c")
    expect(page).to_have_url(re.compile(r"/agent/tickets/new$"))
    page.get_by_label("Find the customer").fill("alice")
    page.get_by_role("button", name="Find", exact=True).click()
    page.get_by_role("radio", name=re.compile("Alice Customer")).check()
    page.get_by_label("How they came").select_option("phone")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Subject", exact=True).fill("Phoned: the invoice is wrong")
    page.get_by_label("What they asked").fill("Alice phoned: invoice 42 bills twice.")
    _check_page(agent, "console-new-ticket-for-customer-desktop", phone=False)
    page.get_by_role("button", name="File the ticket").click()
    expect(page).to_have_url(re.compile(r"/agent/tickets/\d+$"))
    number = int(page.url.rsplit("/", 1)[-1])
    expect(page.locator(".timeline")).to_contain_text("filed the ticket for alice (via phone)")

    # A reply sent as pending with Ctrl+Shift+Enter.
    page.keyboard.press("r")
    expect(page.locator("#comment-body")).to_be_focused()
    page.keyboard.type("We are on it; could you send the invoice's PDF?")
    page.keyboard.press("Control+Shift+Enter")
    expect(page.locator(".ticket-head .badge.status-pending")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text(
        "changed status from open to pending with their reply"
    )

    # The pending list saved as a view: it shows in the sidebar with its count.
    page.goto("/agent?status=pending")
    page.get_by_text("Save this list as a view").click()
    page.get_by_label("Name of the view").fill("Waiting on customers")
    page.get_by_role("button", name="Save view").click()
    view_link = page.locator(".saved-views a", has_text="Waiting on customers")
    expect(view_link).to_have_attribute("aria-current", "page")
    expect(view_link.locator(".count")).to_have_text("1")
    expect(page.get_by_role("link", name=f"#{number}")).to_be_visible()

    # j x ticks the first row; the whole page is then solved in one go.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("j")
    page.keyboard.press("x")
    expect(page.get_by_label(f"Tick #{number}")).to_be_checked()
    expect(page.locator("[data-bulk-count]")).to_have_text("(1 ticked)")
    page.locator("#bulk-status").select_option("solved")
    page.get_by_label("Add tags").fill("phoned")
    _check_page(agent, "console-bulk-desktop", phone=False)
    page.get_by_role("button", name="Apply to ticked tickets").click()
    expect(page.locator(".notice")).to_have_text("Changed 1 of 1 tickets.")
    expect(
        page.locator(".saved-views a", has_text="Waiting on customers").locator(".count")
    ).to_have_text("0")
    page.goto(f"/agent/tickets/{number}")
    expect(page.locator(".ticket-head .badge.status-solved")).to_be_visible()


def test_the_console_forms_fit_a_phone(people: Any) -> None:  # noqa: F811  (the fixture)
    alice = people("alice", PHONE)
    alice.page.goto("/tickets/new")
    alice.page.get_by_label("Subject", exact=True).fill("From a phone")
    alice.page.get_by_label("Message", exact=True).fill("A ticket for the list.")
    alice.page.get_by_role("button", name="File ticket").click()
    expect(alice.page.get_by_role("heading", name=re.compile("From a phone"))).to_be_visible()
    agent = people("agent", PHONE)
    page = agent.page
    page.goto("/agent/tickets/new?who=alice")
    _check_page(agent, "console-new-ticket-for-customer-phone", phone=True)
    page.goto("/agent")
    expect(page.locator("#bulk-form")).to_have_count(1)
    _check_page(agent, "console-list-with-bulk-phone", phone=True)
