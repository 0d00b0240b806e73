"""Presence, the "someone replied meanwhile" warning, and local times in a real browser:
two agents in two browser contexts on one ticket, and an agent who reads German in Berlin.
Nothing here sleeps: Playwright waits for what should appear, within the page's polling
interval (web/console_presence.BEAT_EVERY_MS) and its own timeout."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpwire.accounts import service as accounts
from helpwire.accounts.models import Role
from helpwire.db.session import Database
from helpwire.web.console_presence import BEAT_EVERY_MS
from tests.web.live_server import PASSWORD, LiveServer, require_chromium, start_live_server
from tests.web.test_browser import DESKTOP, Person, chromium

playwright_sync = pytest.importorskip("playwright.sync_api")
expect = playwright_sync.expect

__all__ = ["chromium"]  # the module's browser, shared with test_browser.py's fixture

# A beat, plus the request's own time: what "shown within a few seconds" allows.
WITHIN_A_BEAT_MS = BEAT_EVERY_MS + 5000


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    require_chromium()
    yield from start_live_server(tmp_path_factory.mktemp("live-presence"))


def add_agent(server: LiveServer, username: str, real_name: str) -> None:
    async def create(database: Database) -> None:
        async with database.writing() as session:
            await accounts.create_user(
                session,
                new=accounts.NewUser(
                    username=username,
                    role=Role.AGENT,
                    email=f"{username}@example.test",
                    real_name=real_name,
                    password=PASSWORD,
                ),
            )

    server.on_database(create)


@pytest.fixture
def people(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    opened: list[Person] = []

    def open_as(username: str) -> Person:
        person = Person(chromium, live_server, DESKTOP)
        opened.append(person)
        person.sign_in(username)
        return person

    yield open_as
    for person in opened:
        person.close()


def file_ticket(alice: Person, subject: str) -> str:
    page = alice.page
    page.goto("/tickets/new")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("The export stops halfway.")
    page.get_by_role("button", name="File ticket").click()
    expect(page.get_by_role("heading", name=re.compile(subject))).to_be_visible()
    found = re.search(r"/tickets/(\d+)", page.url)
    assert found
    return found.group(1)


def test_a_second_agent_sees_who_views_and_replies_and_is_warned_of_a_reply(
    people: Any, live_server: LiveServer
) -> None:
    add_agent(live_server, "maya", "Maya Okafor")
    number = file_ticket(people("alice"), "Export stops halfway")
    sam = people("agent")
    maya = people("maya")
    sam.page.goto(f"/agent/tickets/{number}")
    maya.page.goto(f"/agent/tickets/{number}")

    seen_by_sam = sam.page.locator("#presence")
    expect(seen_by_sam).to_have_text("Maya Okafor is viewing", timeout=WITHIN_A_BEAT_MS)
    expect(maya.page.locator("#presence")).to_have_text(
        "Sam Agent is viewing", timeout=WITHIN_A_BEAT_MS
    )

    maya.page.locator("#comment-body").fill("Looking into the export now.")
    expect(seen_by_sam).to_have_text("Maya Okafor is replying", timeout=WITHIN_A_BEAT_MS)
    sam.shot("console-presence-replying")

    # Sam starts an answer; Maya sends hers first: Sam's page says so before he sends.
    sam.page.locator("#comment-body").fill("Could you send us the export log?")
    maya.page.get_by_role("button", name="Send reply").click()
    expect(maya.page.locator(".message").last).to_contain_text("Looking into the export now.")
    live_warning = sam.page.locator("[data-meanwhile-live]")
    expect(live_warning).to_contain_text("Maya Okafor replied meanwhile", timeout=WITHIN_A_BEAT_MS)
    sam.shot("console-presence-replied-meanwhile")

    # Sending anyway without reading: the server holds it back and shows her reply.
    sam.page.get_by_role("button", name="Send reply").click()
    held = sam.page.locator("#replied-meanwhile")
    expect(held).to_contain_text("Maya Okafor replied")
    expect(sam.page.get_by_role("alert").first).to_contain_text("Nothing was sent")
    expect(sam.page.locator(".timeline")).to_contain_text("Looking into the export now.")
    expect(sam.page.locator("#comment-body")).to_have_value("Could you send us the export log?")
    sam.shot("console-presence-held-back")
    sam.page.get_by_role("button", name="Send reply anyway").click()
    expect(sam.page.locator(".message").last).to_contain_text("Could you send us the export log?")

    # Sam leaves the ticket: Maya's page stops listing him.
    sam.page.goto("/agent")
    expect(maya.page.locator("#presence")).to_be_hidden(timeout=WITHIN_A_BEAT_MS)


def test_an_agent_in_berlin_reads_german_and_local_times(
    people: Any, live_server: LiveServer
) -> None:
    add_agent(live_server, "berta", "Berta Schulz")
    number = file_ticket(people("alice"), "Rechnung fehlt")
    berta = people("berta")
    page = berta.page
    page.goto("/settings")
    page.get_by_label("Language").select_option("de")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Einstellungen gespeichert.")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("link", name="Einstellungen")).to_be_visible()
    berta.shot("settings-german")

    page.goto(f"/agent/tickets/{number}")
    # The page's own text is German: the layout, the ticket's facts, the reply form.
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()
    expect(page.get_by_role("heading", name="Verlauf")).to_be_visible()
    expect(page.get_by_role("button", name="Antwort senden")).to_be_visible()
    expect(page.locator(".ticket-head .badges")).to_contain_text("Neu")
    created = page.locator(".facts time").first
    instant = datetime.fromisoformat(str(created.get_attribute("datetime")))
    assert instant.utcoffset() == timedelta(0)  # the machine-readable instant is UTC
    local = instant.astimezone(ZoneInfo("Europe/Berlin"))
    expected = local.strftime("%Y-%m-%d %H:%M ") + str(local.tzname())
    assert local.tzname() in ("CET", "CEST")
    expect(created).to_have_text(expected)
    berta.shot("console-ticket-german")
