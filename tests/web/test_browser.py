"""The UI in a real browser: Debian's Chromium, headless, driven by Playwright, against a
real `helpwire serve` process.

Each page's screenshot is saved under test-artifacts/screenshots/ for a reviewer to look
at. Every page opened here listens for dialogs: none may ever open (an XSS that ran
``alert`` would show as one)."""

from __future__ import annotations

import http.server
import re
import threading
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


@pytest.fixture
def people(chromium: Any, live_server: LiveServer) -> Iterator[Any]:
    opened: list[Person] = []

    def open_as(username: str, viewport: dict[str, int]) -> Person:
        person = Person(chromium, live_server, viewport)
        opened.append(person)
        person.sign_in(username)
        return person

    yield open_as
    for person in opened:
        person.close()


def _no_sideways_scrolling(page: Any) -> None:
    """On a phone nothing may be wider than the screen (except inside scroll boxes)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page scrolls sideways by {overflow}px"


def _every_field_is_labelled(page: Any) -> None:
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea'))
            .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length)
                    && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
            .map(el => el.name || el.id)"""
    )
    assert unlabelled == [], f"fields without a label: {unlabelled}"


def _check_page(person: Person, name: str, *, phone: bool) -> None:
    _every_field_is_labelled(person.page)
    if phone:
        _no_sideways_scrolling(person.page)
    person.shot(name)


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_ticket_from_filing_to_rating(
    people: Any, viewport: dict[str, int], tmp_path: Path
) -> None:
    phone = viewport is PHONE
    suffix = "phone" if phone else "desktop"
    # A long unbroken reference and a wide code block must not widen a phone's page.
    subject = f"Invoice PDF is empty ({suffix}) INV-{'0' * 120}"
    attachment = tmp_path / "invoice-screenshot.txt"
    attachment.write_text("the invoice page shows nothing\n")

    # The customer files a ticket with a file, coming from a page of their application.
    alice = people("alice", viewport)
    page = alice.page
    page.goto("/tickets/new?from=https://app.example.test/billing/invoices")
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Message", exact=True).fill("The **PDF** of invoice 42 has no pages.")
    page.get_by_label("Topic", exact=True).select_option("network")
    # Only the chosen topic's subtopics are offered.
    expect(page.locator('#subtopic optgroup[data-topic="billing"]')).to_be_disabled()
    page.get_by_label("Topic", exact=True).select_option("billing")
    page.get_by_label("Subtopic", exact=True).select_option("invoices")
    page.get_by_label("Priority", exact=True).select_option("high")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#body-preview strong")).to_have_text("PDF")
    page.locator("#files").set_input_files(str(attachment))
    _check_page(alice, f"portal-new-ticket-{suffix}", phone=phone)
    page.get_by_role("button", name="File ticket").click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(subject)))).to_be_visible()
    number = int(re.search(r"/tickets/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    expect(page.get_by_role("link", name="invoice-screenshot.txt")).to_be_visible()
    _check_page(alice, f"portal-ticket-{suffix}", phone=phone)

    # An agent finds it in the "new" queue, with what the browser sent as context.
    agent = people("agent", viewport)
    page = agent.page
    page.goto("/agent?queue=new")
    _check_page(agent, f"console-queue-new-{suffix}", phone=phone)
    page.get_by_role("link", name=subject).click()
    expect(page.locator(".context-location")).to_contain_text(
        "https://app.example.test/billing/invoices"
    )
    expect(page.locator(".context-user-agent")).to_contain_text("Chrome")
    expect(page.get_by_role("link", name="invoice-screenshot.txt")).to_be_visible()
    page.locator("#comment-body").fill(
        "We are regenerating the PDF now.\n\n```\n" + "pdf-render --page " * 30 + "\n```"
    )
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("We are regenerating the PDF now.")).to_be_visible()
    page.locator("#comment-body").fill("Customer is on the legacy billing plan.")
    page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".message.internal")).to_contain_text("legacy billing plan")
    _check_page(agent, f"console-ticket-{suffix}", phone=phone)

    # The customer sees the reply, not the note, and closes with a rating.
    page = alice.page
    page.goto(f"/tickets/{number}")
    expect(page.get_by_text("We are regenerating the PDF now.")).to_be_visible()
    assert "legacy billing plan" not in page.content()
    _check_page(alice, f"portal-conversation-{suffix}", phone=phone)
    page.get_by_label("4", exact=True).check()
    page.locator("#close-comment").fill("Quick and friendly.")
    page.get_by_role("button", name="Close ticket").click()
    expect(page.locator(".badge.status-closed").first).to_be_visible()

    # The agent sees the rating.
    page = agent.page
    page.goto(f"/agent/tickets/{number}")
    expect(page.locator(".rating")).to_contain_text("4/5")
    expect(page.locator(".rating")).to_contain_text("Quick and friendly.")

    page = alice.page
    page.goto("/tickets?status=solved")
    expect(page.get_by_role("link", name=subject)).to_be_visible()
    _check_page(alice, f"portal-my-tickets-{suffix}", phone=phone)


XSS_SUBJECT = '<script>alert("subject")</script><img src=x onerror=alert("subject-img")>'
XSS_BODY = "\n\n".join(
    [
        '<script>alert("body")</script>',
        '<img src=x onerror=alert("img")>',
        "<a href=\"javascript:alert('a')\">plain link</a>",
        "[markdown link](javascript:alert('md'))",
        "[encoded link](jav&#x61;script:alert('enc'))",
        "[spaced link]( javascript:alert('spaced'))",
        "![image](x\" onerror=\"alert('imgmd'))",
        "<svg onload=alert('svg')></svg>",
        "<iframe src=\"javascript:alert('frame')\"></iframe>",
        "<details open ontoggle=alert('toggle')><summary>x</summary></details>",
        "[data link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        '<a href="#" onclick="alert(\'click\')">click me</a>',
    ]
)

_DANGEROUS_MARKUP = """() => {
  const found = [];
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith('on')) found.push(el.tagName + ' ' + attr.name);
      if (['href', 'src', 'action', 'formaction'].includes(attr.name)
          && /^\\s*(javascript|data|vbscript):/i.test(attr.value)) {
        found.push(el.tagName + ' ' + attr.name + '=' + attr.value);
      }
    }
  }
  for (const s of document.querySelectorAll('script')) {
    if (!s.src.endsWith('/static/app.js?v=' + (s.src.split('v=')[1] || ''))) found.push('script');
  }
  for (const f of document.querySelectorAll('iframe, svg, object, embed')) found.push(f.tagName);
  return found;
}"""


def _assert_harmless(person: Person) -> None:
    page = person.page
    assert page.evaluate(_DANGEROUS_MARKUP) == []
    # Click every link inside the conversation that stayed a link: none may run code.
    for link in page.locator(".message .body a").all():
        href = link.get_attribute("href") or ""
        if not href or href.startswith("#"):
            link.click()
    assert person.dialogs == []


def test_script_in_subjects_and_comments_never_runs(people: Any) -> None:
    alice = people("alice", DESKTOP)
    page = alice.page
    page.goto("/tickets/new")
    page.get_by_label("Subject", exact=True).fill(XSS_SUBJECT)
    page.get_by_label("Message", exact=True).fill(XSS_BODY)
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#body-preview")).to_contain_text("plain link")
    _assert_harmless(alice)
    page.get_by_role("button", name="File ticket").click()
    # The subject is shown as the text it is.
    expect(page.get_by_role("heading", name=re.compile("alert"))).to_contain_text(
        '<script>alert("subject")</script>'
    )
    number = int(re.search(r"/tickets/(\d+)", page.url).group(1))  # type: ignore[union-attr]
    _assert_harmless(alice)

    agent = people("agent", DESKTOP)
    agent.page.goto(f"/agent/tickets/{number}")
    _assert_harmless(agent)
    agent.page.locator("#comment-body").fill(XSS_BODY)
    agent.page.get_by_role("button", name="Send reply").click()
    _assert_harmless(agent)
    agent.page.goto("/agent")
    expect(agent.page.get_by_role("link", name=XSS_SUBJECT)).to_be_visible()
    _assert_harmless(agent)
    agent.page.goto("/agent?q=alert")
    _assert_harmless(agent)

    page.goto(f"/tickets/{number}")
    _assert_harmless(alice)
    page.goto("/tickets")
    _assert_harmless(alice)


class _EvilSite:
    """Another site (localhost, where helpwire is 127.0.0.1) serving a page that posts a
    form to helpwire by itself when opened."""

    def __init__(self) -> None:
        self.page = b""
        handler = self._handler()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://localhost:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(site.page)))
                self.end_headers()
                self.wfile.write(site.page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_forms_without_their_token_or_from_another_site_are_refused(
    people: Any, live_server: LiveServer
) -> None:
    alice = people("alice", DESKTOP)
    page = alice.page
    page.goto("/tickets/new")
    token = page.locator('input[name="csrf_token"]').first.input_value()

    # Our own page, but the form lost its token.
    page.evaluate(
        """() => {
          const form = document.querySelector('form[action="/tickets/new"]');
          form.querySelector('input[name="csrf_token"]').remove();
          form.querySelector('#subject').value = 'No token';
          form.querySelector('#body').value = 'Posted without a token';
          form.submit();
        }"""
    )
    expect(page.get_by_text("security token")).to_be_visible()
    alice.shot("csrf-refused")

    # Another site posts the form, even knowing the token: refused by where it came from.
    evil = _EvilSite()
    try:
        evil.page = f"""<!doctype html><html><body>
<form id="f" method="post" action="{live_server.url}/tickets/new">
<input name="csrf_token" value="{token}"><input name="subject" value="Cross-site">
<input name="body" value="Posted from another site"></form>
<script>document.getElementById('f').submit();</script></body></html>""".encode()
        with page.expect_navigation(url=re.compile(re.escape(live_server.url))):
            page.goto(evil.url)
        expect(page.get_by_text("another site")).to_be_visible()
    finally:
        evil.close()

    page.goto("/tickets?status=all")
    content = page.content()
    assert "No token" not in content
    assert "Cross-site" not in content


def test_sign_in_errors_and_the_admin_pages(chromium: Any, live_server: LiveServer) -> None:
    visitor = Person(chromium, live_server, DESKTOP)
    try:
        page = visitor.page
        page.goto("/login")
        visitor.shot("sign-in")
        page.get_by_label("User name or e-mail").fill("admin")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
        visitor.shot("sign-in-wrong-password")
    finally:
        visitor.close()

    admin = Person(chromium, live_server, DESKTOP)
    try:
        admin.sign_in("admin@example.test")
        for path, name in [
            ("/admin", "admin-overview"),
            ("/admin/users", "admin-users"),
            ("/admin/users/new", "admin-user-new"),
            ("/admin/tokens", "admin-tokens"),
            ("/admin/accounts", "admin-accounts"),
            ("/admin/topics", "admin-topics"),
            ("/admin/channels", "admin-channels"),
            ("/admin/channels/new", "admin-channel-new"),
            ("/admin/reports", "admin-reports-tickets"),
            ("/admin/reports?report=times&by=agent", "admin-reports-times"),
            ("/admin/reports?report=csat", "admin-reports-csat"),
        ]:
            response = admin.page.goto(path)
            assert response is not None and response.status == 200, path
            _check_page(admin, name, phone=False)
    finally:
        admin.close()


def test_drag_and_drop_files_and_the_agents_quick_moves(
    people: Any, live_server: LiveServer
) -> None:
    alice = people("alice", DESKTOP)
    page = alice.page
    page.goto("/tickets/new")
    page.get_by_label("Subject", exact=True).fill("Dropped a log file")
    page.get_by_label("Message", exact=True).fill("The log is attached.")
    # A file dropped on the drop zone, as a file manager would drop it.
    drop = page.evaluate_handle(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(['line 1\\nline 2\\n'], 'server.log', {type: 'text/plain'}));
          return data;
        }"""
    )
    page.locator(".dropzone").dispatch_event("drop", {"dataTransfer": drop})
    expect(page.locator(".dropzone [data-file-list]")).to_contain_text("server.log")
    page.get_by_role("button", name="File ticket").click()
    expect(page.get_by_role("link", name="server.log")).to_be_visible()

    agent = people("agent", DESKTOP)
    page = agent.page
    page.goto("/agent?queue=open")
    new_count = page.locator('[data-count="new"]')
    before = int(new_count.inner_text())
    # Another ticket arrives; the console's counts catch up without a reload.
    alice.page.goto("/tickets/new")
    alice.page.get_by_label("Subject", exact=True).fill("Counted live")
    alice.page.get_by_label("Message", exact=True).fill("Does the queue count move?")
    alice.page.get_by_role("button", name="File ticket").click()
    expect(alice.page.get_by_role("heading", name=re.compile("Counted live"))).to_be_visible()
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    expect(new_count).to_have_text(str(before + 1))

    # g n: the New queue; /: the search box; j then Enter: the first ticket.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("g")
    page.keyboard.press("n")
    expect(page).to_have_url(re.compile(r"/agent\?queue=new"))
    page.keyboard.press("/")
    expect(page.locator("#filter-q")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    expect(page.locator("tr[data-row-link].selected")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/agent/tickets/\d+"))
    # n: write an internal note; Ctrl+Enter sends it.
    page.keyboard.press("n")
    expect(page.locator("#comment-body")).to_be_focused()
    page.keyboard.type("Noted with the keyboard.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".message.internal")).to_contain_text("Noted with the keyboard.")
    # ?: the list of shortcuts, a dialog that takes the focus and gives it back on Esc.
    ticket_url = page.url.split("#")[0]
    back_link = page.get_by_role("link", name="Back to the list")
    back_link.focus()
    page.keyboard.press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    help_box = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_box).to_be_focused()
    expect(help_box.get_by_role("link", name="Unassigned queue")).to_be_visible()
    agent.shot("console-shortcut-help")
    page.keyboard.press("Escape")
    expect(help_box).to_be_hidden()
    expect(back_link).to_be_focused()
    # g o works on a ticket page too (not only beside the queue list).
    page.keyboard.press("g")
    page.keyboard.press("o")
    expect(page).to_have_url(re.compile(r"/agent\?queue=open$"))
    # / on a page without a search box: the list, with its search box focused.
    page.goto(ticket_url)
    page.keyboard.press("/")
    expect(page.locator("#filter-q")).to_be_focused()
    expect(page).to_have_url(re.compile(r"/agent$"))
    # A lone g is forgotten after 1.5 s: the next key is a shortcut of its own.
    page.goto(ticket_url)
    page.clock.install()
    page.keyboard.press("g")
    page.clock.run_for(1600)
    page.keyboard.press("n")
    expect(page.locator("#comment-body")).to_be_focused()
    expect(page).to_have_url(ticket_url)


def test_an_agent_sorts_by_due_time_sees_the_sla_badge_turn_red_and_applies_a_macro(
    people: Any, live_server: LiveServer
) -> None:
    from datetime import timedelta

    from helpwire.accounts.actor import load_actor
    from helpwire.accounts.service import get_user
    from helpwire.housekeeping import job_registry
    from helpwire.jobs.worker import Worker
    from helpwire.rules import macros
    from helpwire.sla import admin as sla_admin
    from helpwire.topics import service as topics
    from tests.relays import FakeClock

    async def prepare(database: Any) -> int:
        async with database.writing() as session:
            await topics.create_topic(session, key="outage", names={"en": "Outage"})
            await sla_admin.create_policy(
                session,
                values={
                    "name": "Outages",
                    "conditions": {"topics": ["outage"]},
                    "targets": {"first_reply": {"minutes": 5}},
                },
            )
            admin = await load_actor(session, user=await get_user(session, username="admin"))
            made = await macros.create_macro(
                session,
                actor=admin,
                values={
                    "name": "Investigating the outage",
                    "shared": True,
                    "body": "Hello {{ ticket.requester.first_name }}, we are on it.",
                    "actions": [{"type": "set_status", "value": "pending"}],
                },
            )
            return made.id

    live_server.on_database(prepare)

    alice = people("alice", DESKTOP)
    page = alice.page
    page.goto("/tickets/new")
    page.get_by_label("Subject", exact=True).fill("Everything is down")
    page.get_by_label("Message", exact=True).fill("Nothing loads since ten minutes.")
    page.get_by_label("Topic", exact=True).select_option("outage")
    page.get_by_role("button", name="File ticket").click()
    number = int(re.search(r"/tickets/(\d+)", page.url).group(1))  # type: ignore[union-attr]

    agent = people("agent", DESKTOP)
    page = agent.page
    # The queue by due time, soonest first: the outage is there, its badge amber.
    page.goto("/agent")
    page.get_by_label("Sort by").select_option("sla_due_at")
    page.get_by_label("Order").select_option("asc")
    page.get_by_role("button", name="Show").click()
    row = page.locator("tr", has=page.get_by_role("link", name=f"#{number}"))
    expect(row.locator('[data-sla="soon"]')).to_be_visible()
    agent.shot("console-sla-due-desktop")

    # The SLA timer, run with a clock past the due time, records the breach: red.
    async def breach(database: Any) -> None:
        clock = FakeClock()
        clock.now += timedelta(minutes=10)
        worker = Worker(database, job_registry(live_server.settings), clock=clock)
        await worker.run_once()

    live_server.on_database(breach)
    page.goto(f"/agent/tickets/{number}")
    badge = page.locator('.ticket-head [data-sla="breached"]')
    expect(badge).to_have_text("SLA breached")
    colour = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(179, 38, 30)", colour
    expect(page.get_by_text("First reply missed")).to_be_visible()

    # The agent finds the macro, sees what it will send, and applies it.
    page.get_by_label("Find a macro").fill("outage")
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name="Investigating the outage").click()
    expect(page.locator(".macro-body")).to_have_text("Hello Alice, we are on it.")
    _check_page(agent, "console-macro-preview-desktop", phone=False)
    page.get_by_role("button", name="Apply macro").click()
    expect(page.locator(".timeline").get_by_text("Hello Alice, we are on it.")).to_be_visible()
    expect(page.locator(".ticket-head .badge.status-pending")).to_be_visible()


def _file_ticket(person: Person, subject: str, message: str) -> int:
    person.page.goto("/tickets/new")
    person.page.get_by_label("Subject", exact=True).fill(subject)
    person.page.get_by_label("Message", exact=True).fill(message)
    person.page.get_by_role("button", name="File ticket").click()
    expect(person.page.get_by_role("heading", name=re.compile(subject))).to_be_visible()
    found = re.search(r"/tickets/(\d+)", person.page.url)
    assert found, person.page.url
    return int(found.group(1))


def test_an_agent_follows_merges_and_splits_in_the_console(people: Any) -> None:
    alice = people("alice", DESKTOP)
    smoke = _file_ticket(alice, "Printer smokes", "It smokes since this morning.")
    broken = _file_ticket(alice, "Printer broken", "It prints nothing.")

    agent = people("agent", DESKTOP)
    page = agent.page
    page.goto(f"/agent/tickets/{broken}")
    page.get_by_role("button", name="Follow", exact=True).click()
    expect(page.get_by_role("button", name="Unfollow")).to_be_visible()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("g")
    page.keyboard.press("f")
    expect(page).to_have_url(re.compile(r"/agent\?queue=following$"))
    expect(page.locator("tr[data-row-link]")).to_contain_text(["Printer broken"])

    # Merge: the number typed, the target named for confirmation, then merged.
    page.goto(f"/agent/tickets/{smoke}")
    page.get_by_label("Merge into ticket").fill(f"#{broken}")
    page.get_by_role("button", name="Merge…").click()
    expect(page.locator(".merge-confirm")).to_contain_text(
        f"Merge #{smoke} into #{broken} “Printer broken”?"
    )
    agent.shot("console-merge-confirm")
    page.get_by_role("button", name=f"Merge into #{broken}").click()
    expect(page).to_have_url(re.compile(rf"/agent/tickets/{broken}$"))
    moved = page.locator("li.message", has_text="It smokes since this morning.")
    expect(moved.locator(".badge.moved")).to_have_text(f"from #{smoke}")
    expect(page.locator(".relations")).to_contain_text(f"Merged in from #{smoke}")
    agent.shot("console-merged")

    # Split the merged message off again, into a ticket of its own.
    moved.get_by_label("Split off").check()
    page.get_by_label("Subject of the new ticket").fill("Smoke from the printer")
    page.get_by_role("button", name="Split into a new ticket").click()
    expect(page.get_by_role("heading", name=re.compile("Smoke from the printer"))).to_be_visible()
    expect(page.locator(".relations")).to_contain_text(f"Split off from #{broken}")
    expect(page.locator("li.message")).to_contain_text(["It smokes since this morning."])
    agent.shot("console-split")

    # The customer's merged ticket says where its conversation went.
    alice.page.goto(f"/tickets/{smoke}")
    expect(alice.page.locator("body")).to_contain_text(f"merged into #{broken}")
