"""The customer portal: my tickets, filing a ticket, the conversation and its actions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.web.conftest import Browser, WebHarness

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
_SUBMISSION = re.compile(r'name="submission_id" value="([^"]+)"')
_LOCATION = re.compile(r'name="location" value="([^"]*)"')


@dataclass
class Tags:
    """What the browser would build from a page: the tags and attributes that can run code."""

    names: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    handlers: list[str] = field(default_factory=list)
    script_urls: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, html: str) -> Tags:
        tags = cls()

        class Parser(HTMLParser):
            def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
                tags.names.append(tag)
                values = dict(attrs)
                if tag == "script":
                    tags.scripts.append((values.get("src") or "inline").split("?")[0])
                for name, value in attrs:
                    if name.startswith("on"):
                        tags.handlers.append(f"{tag} {name}")
                    scheme = (value or "").strip().lower()
                    if name in ("href", "src") and scheme.startswith(("javascript:", "data:")):
                        tags.script_urls.append(f"{tag} {name}={value}")

        Parser().feed(html)
        return tags


def submission_of(html: str) -> str:
    found = _SUBMISSION.search(html)
    assert found, "the form has no submission id"
    return found.group(1)


async def open_new_ticket_form(browser: Browser, url: str = "/tickets/new", **kw: Any) -> str:
    page = await browser.get(url, **kw)
    assert page.status_code == 200, page.text
    return page.text


async def file_ticket(
    browser: Browser,
    *,
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None,
    **fields: Any,
) -> httpx.Response:
    """Opens the form and posts it as a browser would."""
    form = await open_new_ticket_form(browser)
    data = {
        "submission_id": submission_of(form),
        "location": "",
        "subject": "Printer on fire",
        "body": "It is *really* on fire.",
        "type": "incident",
        "priority": "high",
        "topic": "",
        "subtopic": "",
        **fields,
    }
    return await browser.post("/tickets/new", data, files=files)


def number_of(answer: httpx.Response) -> int:
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(r"/tickets/(\d+)", answer.headers["location"])
    assert found, answer.headers["location"]
    return int(found.group(1))


async def api_ticket(web: WebHarness, number: int, who: str = "agent") -> dict[str, Any]:
    answer = await web.world.get(who, f"/api/v1/tickets/{number}")
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    return data


async def api_comments(web: WebHarness, number: int) -> list[dict[str, Any]]:
    answer = await web.world.get("agent", f"/api/v1/tickets/{number}/comments")
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def agent_says(web: WebHarness, number: int, body: str, *, internal: bool = False) -> int:
    answer = await web.world.post(
        "agent",
        f"/api/v1/tickets/{number}/comments",
        json={"body": body, "internal": internal, "body_format": "markdown"},
    )
    assert answer.status_code == 201, answer.text
    comment_id: int = answer.json()["id"]
    return comment_id


# --- filing a ticket -----------------------------------------------------------------------


async def test_filing_a_ticket_keeps_the_browser_the_page_it_came_from_and_the_file(
    web: WebHarness,
) -> None:
    alice = await web.sign_in("alice")
    came_from = "https://app.acme.test/billing?tab=invoices"
    form = await open_new_ticket_form(
        alice, "/tickets/new", params={"from": came_from}, headers={"User-Agent": FIREFOX}
    )
    assert 'enctype="multipart/form-data"' in form
    assert 'class="dropzone"' in form and 'name="files" multiple' in form
    assert 'data-preview-for="body"' in form
    hidden = _LOCATION.search(form)
    assert hidden and hidden.group(1) == came_from.replace("&", "&amp;")
    answer = await alice.post(
        "/tickets/new",
        {
            "submission_id": submission_of(form),
            "location": came_from,
            "subject": "Invoice is wrong",
            "body": "The total is **wrong**.",
            "type": "problem",
            "priority": "high",
            "topic": "billing",
            "subtopic": "invoices",
        },
        files=[("files", ("invoice.txt", b"total: 42", "text/plain"))],
        headers={"User-Agent": FIREFOX},
    )
    number = number_of(answer)
    page = await alice.get(answer.headers["location"])
    assert f"Ticket #{number} is filed" in page.text
    ticket = await api_ticket(web, number)
    assert ticket["subject"] == "Invoice is wrong"
    assert ticket["context"]["user_agent"] == FIREFOX
    assert ticket["context"]["location"] == came_from
    assert ticket["context"]["via"] == "web"
    assert ticket["context"]["request_id"]
    assert (ticket["type"], ticket["priority"]) == ("problem", "high")
    assert (ticket["topic"], ticket["subtopic"]) == ("billing", "invoices")
    assert ticket["requester"]["username"] == "alice"
    [first] = await api_comments(web, number)
    assert first["body_format"] == "markdown"
    assert "<strong>wrong</strong>" in first["body_html"]
    [attached] = first["files"]
    assert attached["filename"] == "invoice.txt"
    # The customer sees the file on the conversation and can download it.
    assert f"/files/{attached['id']}/invoice.txt" in page.text
    download = await alice.get(f"/files/{attached['id']}/invoice.txt")
    assert download.content == b"total: 42"


async def test_the_referrer_counts_only_when_it_is_another_site(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    form = await open_new_ticket_form(alice, headers={"Referer": "https://app.acme.test/settings"})
    hidden = _LOCATION.search(form)
    assert hidden and hidden.group(1) == "https://app.acme.test/settings"
    for ours_or_junk in ("http://helpwire.test/tickets", "javascript:alert(1)"):
        form = await open_new_ticket_form(alice, headers={"Referer": ours_or_junk})
        hidden = _LOCATION.search(form)
        assert hidden and hidden.group(1) == ""


async def test_access_level_and_projects_are_offered_only_where_there_are_projects(
    web: WebHarness,
) -> None:
    carol = await web.sign_in("carol")  # acme, no projects of her own, not account-wide
    form = await open_new_ticket_form(carol)
    assert 'name="access_level"' not in form and 'name="projects"' not in form
    alice = await web.sign_in("alice")  # member of p1 only
    form = await open_new_ticket_form(alice)
    assert 'name="access_level"' in form
    assert 'value="p1"' in form and 'value="p2"' not in form
    answer = await file_ticket(alice, access_level="project_users", projects=["p1"])
    ticket = await api_ticket(web, number_of(answer))
    assert (ticket["access_level"], ticket["projects"]) == ("project_users", ["p1"])
    # A project she is not a member of is refused, like the API refuses it on a change.
    before = await web.world.row_counts()
    answer = await file_ticket(alice, access_level="project_users", projects=["p2"])
    assert answer.status_code == 422
    assert "only projects you are a member of" in answer.text
    assert await web.world.row_counts() == before


async def test_the_portal_refuses_a_foreign_project_as_the_api_does(web: WebHarness) -> None:
    """The rule is the ticket service's: the form shows its refusal word for word, next to
    the projects, with the choices kept; what the form offers is what the service allows."""
    api = await web.world.post(
        "alice", "/api/v1/tickets", json={"subject": "s", "body": "b", "projects": ["p1", "p2"]}
    )
    assert api.status_code == 422, api.text
    [error] = api.json()["errors"]
    alice = await web.sign_in("alice")
    before = await web.world.row_counts()
    answer = await file_ticket(alice, access_level="project_users", projects=["p1", "p2"])
    assert answer.status_code == 422
    assert error["message"] in answer.text
    assert 'value="p1" checked' in answer.text
    # carol is offered no project at all; a crafted post naming one gets the same answer.
    carol = await web.sign_in("carol")
    answer = await file_ticket(carol, projects=["p1"])
    assert answer.status_code == 422
    assert "you may name only projects you are a member of: not p1" in answer.text
    assert await web.world.row_counts() == before
    # An account-wide customer is offered, and may name, every project of the account.
    owner = await web.sign_in("owner")
    form = await open_new_ticket_form(owner)
    assert 'value="p1"' in form and 'value="p2"' in form
    answer = await file_ticket(owner, access_level="project_users", projects=["p2"])
    assert (await api_ticket(web, number_of(answer)))["projects"] == ["p2"]


async def test_bad_input_shows_the_form_again_with_the_message_and_changes_nothing(
    web: WebHarness,
) -> None:
    alice = await web.sign_in("alice")
    before = await web.world.row_counts()
    answer = await file_ticket(
        alice,
        subject="   ",
        body="Kept text",
        files=[("files", ("kept.txt", b"data", "text/plain"))],
    )
    assert answer.status_code == 422
    assert "Give the ticket a subject" in answer.text
    assert "Kept text</textarea>" in answer.text  # what was typed stays
    assert "Choose the files again" in answer.text
    answer = await file_ticket(alice, topic="no-such-topic", subject="Typed subject")
    assert answer.status_code == 422
    assert "unknown topic &#39;no-such-topic&#39;" in answer.text
    assert 'value="Typed subject"' in answer.text
    answer = await file_ticket(alice, topic="network", subtopic="invoices")
    assert answer.status_code == 422
    assert "has no subtopic" in answer.text
    answer = await file_ticket(alice, priority="whenever")
    assert answer.status_code == 422
    assert "Choose one of the listed priorities." in answer.text
    assert await web.world.row_counts() == before
    # The stored bytes of the refused file are gone too.
    assert not any(p.is_file() for p in web.app.state.settings.files_dir.rglob("*"))


async def test_a_double_submitted_form_files_one_ticket(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    form = await open_new_ticket_form(alice)
    data = {
        "submission_id": submission_of(form),
        "subject": "Clicked twice",
        "body": "Oops",
        "type": "question",
        "priority": "normal",
    }
    first = await alice.post("/tickets/new", data)
    second = await alice.post("/tickets/new", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    page = await alice.get(second.headers["location"])
    assert "This form was sent already" in page.text
    listing = await web.world.get("alice", "/api/v1/tickets", params={"q": "Clicked"})
    assert len(listing.json()["items"]) == 1
    # A new form is a new ticket.
    again = await file_ticket(alice, subject="Clicked twice")
    assert again.headers["location"] != first.headers["location"]


async def test_the_markdown_preview_renders_and_sanitizes(web: WebHarness) -> None:
    alice = await web.sign_in("alice")
    await alice.get("/tickets/new")
    answer = await alice.post(
        "/ui/preview",
        {
            "body": "**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
            "<img src=x onerror=alert(1)>"
        },
    )
    assert answer.status_code == 200
    html = answer.json()["html"]
    assert "<strong>bold</strong>" in html
    assert "<script" not in html and "<img" not in html
    assert 'href="javascript:' not in html


async def test_staff_are_sent_to_the_console(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    for url, target in (
        ("/tickets", "/agent"),
        ("/tickets/new", "/agent/tickets/new"),
        (f"/tickets/{number}", f"/agent/tickets/{number}"),
    ):
        answer = await agent.get(url)
        assert (answer.status_code, answer.headers["location"]) == (303, target)


# --- my tickets ----------------------------------------------------------------------------


async def test_my_tickets_shows_only_what_the_customer_may_see(web: WebHarness) -> None:
    world = web.world
    mine = await world.create_ticket("alice", subject="Alice own ticket")
    p1 = await world.create_ticket(
        "owner", subject="Shared with p1", access_level="project_users", projects=["p1"]
    )
    p2 = await world.create_ticket(
        "bob", subject="Bob p2 secret", access_level="project_users", projects=["p2"]
    )
    carols = await world.create_ticket("carol", subject="Carol private")
    alice = await web.sign_in("alice")
    page = await alice.get("/tickets")
    assert page.status_code == 200
    assert 'class="responsive ticket-list"' in page.text
    assert "Alice own ticket" in page.text and "Shared with p1" in page.text
    assert "Bob p2 secret" not in page.text and "Carol private" not in page.text
    # Newest first.
    assert page.text.index("Shared with p1") < page.text.index("Alice own ticket")
    assert f'href="/tickets/{mine["number"]}"' in page.text
    assert f'href="/tickets/{p1["number"]}"' in page.text
    gus = await web.sign_in("gus")
    page = await gus.get("/tickets")
    for ticket in (mine, p1, p2, carols):
        assert f'href="/tickets/{ticket["number"]}"' not in page.text
    assert 'id="no-tickets"' in page.text


async def test_status_filters_search_and_older_pages(web: WebHarness) -> None:
    world = web.world
    for index in range(27):
        await world.create_ticket("alice", subject=f"Routine question {index}")
    solved = await world.create_ticket("alice", subject="Unique zebra problem")
    answer = await world.patch(
        "agent", f"/api/v1/tickets/{solved['number']}", json={"status": "solved"}
    )
    assert answer.status_code == 200
    alice = await web.sign_in("alice")

    page = await alice.get("/tickets")  # open tickets by default
    assert "Unique zebra problem" not in page.text
    assert "Routine question 26" in page.text and "Routine question 1<" not in page.text
    older = re.search(r'href="([^"]+)" rel="next">Older', page.text)
    assert older, "a full page links to the older tickets"
    page = await alice.get(older.group(1).replace("&amp;", "&"))
    assert "Routine question 1<" in page.text and "Routine question 0<" in page.text
    assert "Routine question 26" not in page.text
    assert ">Newest</a>" in page.text

    page = await alice.get("/tickets?status=solved")
    assert "Unique zebra problem" in page.text and "Routine question" not in page.text
    page = await alice.get("/tickets?status=all&q=zebra")
    assert "Unique zebra problem" in page.text and "Routine question" not in page.text
    page = await alice.get("/tickets?status=open&q=zebra")
    assert "Unique zebra problem" not in page.text
    assert "No tickets match" in page.text
    page = await alice.get("/tickets?status=whatever")
    assert page.status_code == 422


# --- the conversation ----------------------------------------------------------------------


async def test_the_conversation_shows_replies_but_never_internal_notes(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice", subject="Need a hand"))["number"]
    await agent_says(web, number, "Try **turning it off** and on.")
    await agent_says(web, number, "Customer seems confused; SECRET-NOTE", internal=True)
    alice = await web.sign_in("alice")
    page = await alice.get(f"/tickets/{number}")
    assert page.status_code == 200
    assert "Need a hand" in page.text
    assert "Try <strong>turning it off</strong> and on." in page.text
    assert "Sam Agent" in page.text and 'class="badge support">Support<' in page.text
    assert "SECRET-NOTE" not in page.text
    assert "internal" not in page.text.lower()


async def test_unread_replies_are_marked_until_read(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice", subject="Waiting"))["number"]
    alice = await web.sign_in("alice")
    page = await alice.get("/tickets")
    assert "New reply" not in page.text
    reply_id = await agent_says(web, number, "Here is the answer.")
    page = await alice.get("/tickets")
    assert 'class="badge unread">New reply<' in page.text
    page = await alice.get(f"/tickets/{number}")
    assert re.search(rf'class="message staff unread" id="comment-{reply_id}"', page.text)
    # The visit marked it read: neither the page nor the list shows it as new any more.
    page = await alice.get(f"/tickets/{number}")
    assert f'class="message staff" id="comment-{reply_id}"' in page.text
    assert "New reply" not in (await alice.get("/tickets")).text
    ticket = await api_ticket(web, number, who="alice")
    assert ticket["read"]["customer"] is True


async def test_fetching_the_conversation_as_an_image_does_not_mark_it_read(
    web: WebHarness,
) -> None:
    # A relative image source in a message makes the browser fetch the page it names:
    # only opening the page reads the reply.
    number = (await web.world.create_ticket("alice", subject="Waiting"))["number"]
    await agent_says(web, number, "Here is the answer.")
    alice = await web.sign_in("alice")
    fetched = await alice.get(f"/tickets/{number}", headers={"Sec-Fetch-Dest": "image"})
    assert fetched.status_code == 200
    assert (await api_ticket(web, number, who="alice"))["read"]["customer"] is False
    await alice.get(f"/tickets/{number}", headers={"Sec-Fetch-Dest": "document"})
    assert (await api_ticket(web, number, who="alice"))["read"]["customer"] is True


async def test_a_colleague_reading_the_ticket_leaves_the_requesters_reply_unread(
    web: WebHarness,
) -> None:
    number = (
        await web.world.create_ticket(
            "owner", subject="Shared with p1", access_level="project_users", projects=["p1"]
        )
    )["number"]
    reply_id = await agent_says(web, number, "Here is the answer.")
    alice = await web.sign_in("alice")  # a p1 member: she sees the ticket, it is not hers
    await alice.get(f"/tickets/{number}")
    page = await alice.get(f"/tickets/{number}")
    # She sees what the requester has not read yet, and her visits did not change that.
    assert re.search(rf'class="message staff unread" id="comment-{reply_id}"', page.text)
    assert (await api_ticket(web, number, who="owner"))["read"]["customer"] is False
    owner = await web.sign_in("owner")
    assert 'class="badge unread">New reply<' in (await owner.get("/tickets")).text
    await owner.get(f"/tickets/{number}")
    assert "New reply" not in (await owner.get("/tickets")).text
    assert "New reply" not in (await alice.get("/tickets")).text
    assert (await api_ticket(web, number, who="owner"))["read"]["customer"] is True


async def test_reply_with_a_file(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    alice = await web.sign_in("alice")
    page = await alice.get(f"/tickets/{number}")
    assert 'id="reply-form"' in page.text
    answer = await alice.post(
        f"/tickets/{number}/reply",
        {"body": "Here is the _log_."},
        files=[
            ("files", ("log.txt", b"line 1", "text/plain")),
            ("files", ("shot.png", b"\x89PNG fake", "image/png")),
        ],
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/tickets/{number}"
    comments = await api_comments(web, number)
    assert comments[-1]["body"] == "Here is the _log_."
    assert [f["filename"] for f in comments[-1]["files"]] == ["log.txt", "shot.png"]
    page = await alice.get(f"/tickets/{number}")
    assert "Your reply is sent." in page.text
    assert "Here is the <em>log</em>." in page.text


async def test_an_empty_reply_or_too_many_files_is_refused_and_the_text_kept(
    web: WebHarness,
) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    alice = await web.sign_in("alice")
    await alice.get(f"/tickets/{number}")
    before = await web.world.row_counts()
    answer = await alice.post(f"/tickets/{number}/reply", {"body": "  \n "})
    assert answer.status_code == 422
    assert "Write a message" in answer.text
    limit = web.app.state.settings.max_files_per_comment
    answer = await alice.post(
        f"/tickets/{number}/reply",
        {"body": "Many files"},
        files=[("files", (f"f{i}.txt", b"x", "text/plain")) for i in range(limit + 1)],
    )
    assert answer.status_code == 422
    assert f"at most {limit} files" in answer.text
    assert ">Many files</textarea>" in answer.text
    assert await web.world.row_counts() == before


async def test_close_with_a_rating_then_reopen(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    await agent_says(web, number, "Fixed it.")
    alice = await web.sign_in("alice")
    page = await alice.get(f"/tickets/{number}")
    assert 'id="close-form"' in page.text and 'id="close-score-5"' in page.text
    answer = await alice.post(f"/tickets/{number}/close", {"score": "4", "comment": "Quick!"})
    assert answer.status_code == 303
    ticket = await api_ticket(web, number)
    assert ticket["status"] == "closed"
    assert (ticket["rating"]["score"], ticket["rating"]["comment"]) == (4, "Quick!")
    page = await alice.get(f"/tickets/{number}")
    assert "4 of 5" in page.text
    assert 'id="reply-form"' not in page.text and 'id="close-form"' not in page.text
    assert 'id="rate-form"' not in page.text  # rated already

    answer = await alice.post(f"/tickets/{number}/reopen", {"body": "It broke again."})
    assert answer.status_code == 303
    ticket = await api_ticket(web, number)
    assert ticket["status"] == "open"
    assert (await api_comments(web, number))[-1]["body"] == "It broke again."


async def test_closing_without_a_rating_lets_the_customer_rate_later(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    alice = await web.sign_in("alice")
    await alice.get(f"/tickets/{number}")
    answer = await alice.post(f"/tickets/{number}/close", {"comment": ""})
    assert answer.status_code == 303
    assert (await api_ticket(web, number))["rating"] is None
    page = await alice.get(f"/tickets/{number}")
    assert 'id="rate-form"' in page.text and 'id="reopen-form"' in page.text
    before = await web.world.row_counts()
    answer = await alice.post(f"/tickets/{number}/rate", {"score": "9"})
    assert answer.status_code == 422
    assert "Choose a rating from 1 to 5." in answer.text
    assert await web.world.row_counts() == before
    assert (await api_ticket(web, number))["rating"] is None
    answer = await alice.post(f"/tickets/{number}/rate", {"score": "5", "comment": "Great"})
    assert answer.status_code == 303
    assert (await api_ticket(web, number))["rating"]["score"] == 5


async def test_a_bad_rating_on_close_changes_nothing(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    alice = await web.sign_in("alice")
    await alice.get(f"/tickets/{number}")
    before = await web.world.row_counts()
    answer = await alice.post(f"/tickets/{number}/close", {"score": "9", "comment": "kept words"})
    assert answer.status_code == 422
    assert "Choose a rating from 1 to 5." in answer.text
    assert ">kept words</textarea>" in answer.text
    assert await web.world.row_counts() == before
    assert (await api_ticket(web, number))["status"] == "new"


async def test_a_closed_ticket_takes_no_reply_and_says_why(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    alice = await web.sign_in("alice")
    await alice.get(f"/tickets/{number}")
    assert (await alice.post(f"/tickets/{number}/close", {})).status_code == 303
    before = await web.world.row_counts()
    answer = await alice.post(f"/tickets/{number}/reply", {"body": "One more thing"})
    assert answer.status_code == 409
    assert "reopen it first" in answer.text
    assert await web.world.row_counts() == before


async def test_thumbs_up_and_down_on_a_reply(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice"))["number"]
    reply_id = await agent_says(web, number, "Have you tried this?")
    alice = await web.sign_in("alice")
    page = await alice.get(f"/tickets/{number}")
    rate_url = f"/tickets/{number}/comments/{reply_id}/rate"
    assert f'action="{rate_url}"' in page.text
    answer = await alice.post(rate_url, {"score": "1"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/tickets/{number}#comment-{reply_id}"
    page = await alice.get(f"/tickets/{number}")
    assert re.search(r'value="1"[^>]*\s+aria-pressed="true"', page.text)
    assert "You found this helpful." in page.text
    assert (await api_comments(web, number))[-1]["rating"]["score"] == 1
    answer = await alice.post(rate_url, {"score": "-1"})
    assert answer.status_code == 303
    assert (await api_comments(web, number))[-1]["rating"]["score"] == -1
    # Her own message has no thumbs, and a comment of another ticket cannot be rated here.
    first_id = (await api_comments(web, number))[0]["id"]
    assert f"/comments/{first_id}/rate" not in page.text
    other = (await web.world.create_ticket("alice"))["number"]
    answer = await alice.post(f"/tickets/{other}/comments/{reply_id}/rate", {"score": "1"})
    assert answer.status_code == 404


async def test_another_accounts_ticket_is_not_found(web: WebHarness) -> None:
    number = (await web.world.create_ticket("alice", subject="Acme only"))["number"]
    gus = await web.sign_in("gus")
    page = await gus.get(f"/tickets/{number}")
    assert page.status_code == 404
    assert "Acme only" not in page.text
    answer = await gus.post(f"/tickets/{number}/reply", {"body": "hello"})
    assert answer.status_code == 404
    # bob (acme, p2) cannot see alice's account_users ticket either.
    bob = await web.sign_in("bob")
    assert (await bob.get(f"/tickets/{number}")).status_code == 404


# --- escaping ------------------------------------------------------------------------------


async def test_subjects_and_comments_cannot_run_script(web: WebHarness) -> None:
    subject = '<script>alert("s")</script><img src=x onerror=alert(1)>'
    body = (
        "<script>alert(1)</script> <img src=x onerror=alert(2)> "
        "[click](javascript:alert(3)) [also](JaVaScRiPt:alert(4)) "
        '<a href="javascript:alert(5)">raw</a> [data](data:text/html;base64,PHNjcmlwdD4=) '
        "![img](javascript:alert(6)) [ent](&#106;avascript:alert(10)) "
        "[angle](<javascript:alert(11)>) [ref][r]\n\n[r]: javascript:alert(12)"
    )
    alice = await web.sign_in("alice")
    answer = await file_ticket(alice, subject=subject, body=body)
    number = number_of(answer)
    await agent_says(web, number, "<svg onload=alert(7)> [x](javascript:alert(8))")
    for url in ("/tickets?status=all", f"/tickets/{number}"):
        page = await alice.get(url)
        assert "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;" in page.text
        tags = Tags.of(page.text)
        assert tags.scripts == ["/static/app.js"], "no script but our own"
        assert tags.handlers == [], "no event-handler attributes"
        assert tags.script_urls == [], "no javascript: or data: links or images"
        assert not any(tag in ("img", "svg") for tag in tags.names)
    # A URL with a script scheme given as the page the customer came from is not kept.
    form = await open_new_ticket_form(alice, params={"from": "javascript:alert(9)"})
    hidden = _LOCATION.search(form)
    assert hidden and hidden.group(1) == ""


# --- topic names in the reader's language --------------------------------------------------


async def give_billing_german_names(web: WebHarness) -> None:
    answer = await web.world.patch(
        "admin",
        "/api/v1/topics/billing",
        json={
            "names": {"en": "Billing", "ru": "Оплата", "de": "Abrechnung"},
            "subtopics": [
                {"key": "invoices", "names": {"en": "Invoices", "ru": "Счета", "de": "Rechnungen"}}
            ],
        },
    )
    assert answer.status_code == 200, answer.text


async def test_topics_are_named_in_the_browsers_language(web: WebHarness) -> None:
    await give_billing_german_names(web)
    number = (await web.world.create_ticket("alice", topic="billing", subtopic="invoices"))[
        "number"
    ]
    alice = await web.sign_in("alice")
    german = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}
    form = await open_new_ticket_form(alice, headers=german)
    assert ">Abrechnung</option>" in form and ">Rechnungen</option>" in form
    assert "Billing" not in form and "Invoices" not in form
    page = await alice.get(f"/tickets/{number}", headers=german)
    assert 'data-fact="topic">Abrechnung / Rechnungen<' in page.text
    # Russian, by the language's weight: a language without names is passed over.
    russian = {"Accept-Language": "fr-CH, ru;q=0.8, de;q=0.3"}
    page = await alice.get(f"/tickets/{number}", headers=russian)
    assert 'data-fact="topic">Оплата / Счета<' in page.text
    # No header, or only languages the topic has no name in: English.
    for headers in ({}, {"Accept-Language": "fr-FR, *;q=0.5"}, {"Accept-Language": "de;q=0"}):
        page = await alice.get(f"/tickets/{number}", headers=headers)
        assert 'data-fact="topic">Billing / Invoices<' in page.text, headers
        form = await open_new_ticket_form(alice, headers=headers)
        assert ">Billing</option>" in form and "Abrechnung" not in form


async def test_the_console_and_the_admin_name_topics_in_the_readers_language(
    web: WebHarness,
) -> None:
    await give_billing_german_names(web)
    number = (await web.world.create_ticket("alice", topic="billing", subtopic="invoices"))[
        "number"
    ]
    german = {"Accept-Language": "de-CH"}
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}", headers=german)
    assert "<dd>Abrechnung / Rechnungen</dd>" in page.text
    assert ">Abrechnung / Rechnungen</option>" in page.text
    queue = await agent.get("/agent", headers=german)
    assert ">Abrechnung</option>" in queue.text
    assert ">Billing</option>" in (await agent.get("/agent")).text
    admin = await web.sign_in("admin")
    topics = await admin.get("/admin/topics", headers=german)
    assert ">Rechnungen</span>" in topics.text
