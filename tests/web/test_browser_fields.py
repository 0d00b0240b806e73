"""Custom fields in a real browser: a field the billing topic requires is asked for on the
portal's new-ticket form, which refuses the ticket without it and files it with it, and the
console shows its value. A server of its own: the required field would change what every
other browser test's billing ticket needs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from helpwire.db.session import Database
from helpwire.fields.models import FieldKind
from helpwire.fields.schemas import FieldCreate
from helpwire.fields.service import create_field
from tests.web.live_server import LiveServer, require_chromium, start_live_server
from tests.web.test_browser import DESKTOP, _check_page, chromium, expect, people

__all__ = ["chromium", "people"]  # the fixtures, used here by name


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    yield from start_live_server(tmp_path_factory.mktemp("live-fields"))


async def _billing_needs_an_order_number(database: Database) -> None:
    async with database.writing() as session:
        await create_field(
            session,
            new=FieldCreate(
                key="order-ref",
                name="Order number",
                kind=FieldKind.TEXT,
                required_topics=["billing"],
            ),
        )
        await create_field(
            session,
            new=FieldCreate(
                key="plan", name="Plan", kind=FieldKind.SELECT, options=["free", "pro"]
            ),
        )


def test_a_field_the_topic_requires_is_asked_for_and_shown_to_support(
    people: Any, live_server: LiveServer
) -> None:
    live_server.on_database(_billing_needs_an_order_number)
    alice = people("alice", DESKTOP)
    page = alice.page
    page.goto("/tickets/new")
    page.get_by_label("Subject", exact=True).fill("Charged twice")
    page.get_by_label("Message", exact=True).fill("My card was charged twice this month.")
    page.get_by_label("Topic", exact=True).select_option("billing")
    page.get_by_label("Plan", exact=True).select_option("pro")
    expect(page.locator('[data-field="order-ref"] .hint')).to_contain_text("Billing")
    page.get_by_role("button", name="File ticket").click()

    # Refused, with the reason at the field, and everything typed kept.
    error = page.locator('[id="fields.order-ref-error"]')
    expect(error).to_contain_text("Order number is required")
    expect(page.get_by_label("Subject", exact=True)).to_have_value("Charged twice")
    expect(page.get_by_label("Plan", exact=True)).to_have_value("pro")
    _check_page(alice, "portal-new-ticket-required-field", phone=False)

    page.get_by_label("Order number", exact=True).fill("ORD-2026-0042")
    page.get_by_role("button", name="File ticket").click()
    expect(page.get_by_role("heading", name=re.compile("Charged twice"))).to_be_visible()
    number = int(re.search(r"/tickets/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    agent = people("agent", DESKTOP)
    page = agent.page
    page.goto(f"/agent/tickets/{number}")
    facts = page.locator(".ticket-head dl.facts")
    expect(facts).to_contain_text("Order number")
    expect(facts).to_contain_text("ORD-2026-0042")
    expect(facts).to_contain_text("pro")
    _check_page(agent, "console-ticket-custom-fields", phone=False)
