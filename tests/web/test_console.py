"""The agent console: queues and their counts, the ticket list, the ticket page and its
forms, as an agent's browser uses them."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import update

from helpwire.tickets.models import Ticket
from helpwire.tickets.queues import QUEUES
from helpwire.web import console_ticket
from tests.conftest import World
from tests.web.conftest import Browser, WebHarness

_ETAG = re.compile(r'name="etag" value="([^"]+)"')
_ROW_NUMBERS = re.compile(r'<tr data-row-link data-number="(\d+)"')


def etag_on(page: str) -> str:
    found = _ETAG.search(page)
    assert found, "the ticket page has no ETag field"
    return html.unescape(found.group(1))


def listed(page: str) -> list[int]:
    return [int(n) for n in _ROW_NUMBERS.findall(page)]


def shown_count(page: str, queue: str) -> str:
    found = re.search(rf'data-count="{queue}">([^<]*)<', page)
    assert found, f"no count for {queue}"
    return found.group(1)


async def api_ticket(world: World, number: int) -> dict[str, Any]:
    response = await world.get("agent", f"/api/v1/tickets/{number}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def change(world: World, number: int, **fields: Any) -> None:
    response = await world.patch("agent", f"/api/v1/tickets/{number}", json=fields)
    assert response.status_code == 200, response.text


def properties_form(page: str, **changes: str) -> dict[str, str]:
    """The properties form as the page filled it in, with ``changes`` made."""
    form = {"etag": etag_on(page)}
    section = page.split('id="properties-title"')[1].split("</form>")[0]
    for name in ("status", "priority", "type", "topic", "assignee"):
        select = section.split(f'name="{name}"')[1].split("</select>")[0]
        chosen = re.search(r'<option value="([^"]*)" selected>', select)
        form[name] = html.unescape(chosen.group(1)) if chosen else ""
    tags = re.search(r'name="tags" value="([^"]*)"', section)
    assert tags
    form["tags"] = html.unescape(tags.group(1))
    form.update(changes)
    return form


async def test_customers_are_refused(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice")
    alice = await web.sign_in("alice")
    await alice.get("/tickets")
    for url in ("/agent", "/agent/counts", f"/agent/tickets/{ticket['number']}"):
        answer = await alice.get(url)
        assert answer.status_code == 403, url
        assert "this page is for agents" in answer.text
    answer = await alice.post(f"/agent/tickets/{ticket['number']}/escalate", {})
    assert answer.status_code == 403
    assert (await api_ticket(world, ticket["number"]))["escalated"] is False


async def test_queues_count_their_tickets_and_list_the_same_ones(
    web: WebHarness, world: World
) -> None:
    made = {}
    for name in (
        "new",
        "open",
        "pending",
        "hold",
        "solved",
        "mine",
        "urgent",
        "escalated",
        "closed",
    ):
        made[name] = (await world.create_ticket("alice", subject=f"ticket {name}"))["number"]
    await change(world, made["open"], status="open", assignee="agent2")
    await change(world, made["pending"], status="pending")
    await change(world, made["hold"], status="hold", assignee="agent2")
    await change(world, made["solved"], status="solved", assignee="agent")
    await change(world, made["mine"], status="open", assignee="agent")
    await change(world, made["urgent"], priority="urgent", assignee="agent2")
    escalated = await world.post("agent", f"/api/v1/tickets/{made['escalated']}/escalate")
    assert escalated.status_code == 200
    await change(world, made["closed"], status="closed", priority="urgent", assignee="agent")
    # A group of agent's, and SLA breaches (written as the SLA timer writes them).
    group = await world.post(
        "admin", "/api/v1/groups", json={"key": "desk", "name": "Desk", "members": ["agent"]}
    )
    assert group.status_code == 201
    for number in (made["open"], made["solved"], made["closed"]):
        await world.patch("agent", f"/api/v1/tickets/{number}", json={"group": "desk"})
    async with world.database.writing() as session:
        await session.execute(
            update(Ticket)
            .where(Ticket.number.in_([made["hold"], made["closed"]]))
            .values(sla_breached=True)
        )

    expected = {
        "new": {made["new"], made["urgent"], made["escalated"]},
        "open": {made["open"], made["mine"]},
        "pending": {made["pending"]},
        "hold": {made["hold"]},
        "solved": {made["solved"]},
        "mine": {made["mine"]},
        "unassigned": {made["new"], made["pending"], made["escalated"]},
        # Escalation makes a ticket urgent too.
        "urgent": {made["urgent"], made["escalated"]},
        "escalated": {made["escalated"]},
        # Not solved ones, nor closed.
        "my_groups": {made["open"]},
        "sla_breached": {made["hold"]},
        # The caller's: solved ones too, not closed ones.
        "following": {made["solved"]},
    }
    for number in (made["solved"], made["closed"]):
        followed = await world.post("agent", f"/api/v1/tickets/{number}/followers", json={})
        assert followed.status_code == 201, followed.text
    await world.post("agent2", f"/api/v1/tickets/{made['open']}/followers", json={})
    agent = await web.sign_in("agent")
    console = await agent.get("/agent")
    assert console.status_code == 200
    assert 'data-live-counts="/agent/counts"' in console.text
    for queue, numbers in expected.items():
        assert shown_count(console.text, queue) == str(len(numbers)), queue
        page = await agent.get(f"/agent?queue={queue}")
        assert set(listed(page.text)) == numbers, queue
    for key, queue in (("n", "new"), ("o", "open"), ("m", "mine"), ("u", "unassigned")):
        assert f'href="/agent?queue={queue}" data-goto="{key}"' in console.text
    counts = await agent.get("/agent/counts")
    assert counts.headers["content-type"].startswith("application/json")
    assert counts.json() == {queue: len(numbers) for queue, numbers in expected.items()}


async def test_the_list_filters_searches_sorts_and_pages(web: WebHarness, world: World) -> None:
    plain = await world.create_ticket("alice", subject="Printer on fire", tags=["hardware"])
    billing = await world.create_ticket(
        "bob",
        subject="Invoice twice",
        body="charged for the zeppelin twice",
        type="problem",
        priority="high",
        topic="billing",
        access_level="project_users",
        projects=["p2"],
    )
    globex = await world.create_ticket("gus", subject="Globex outage", type="incident")
    await change(world, billing["number"], assignee="agent", status="pending")
    await world.post("agent", f"/api/v1/tickets/{globex['number']}/escalate")
    agent = await web.sign_in("agent")

    async def numbers(query: str) -> list[int]:
        page = await agent.get("/agent?" + query)
        assert page.status_code == 200, page.text
        return listed(page.text)

    everyone = [globex["number"], billing["number"], plain["number"]]
    assert await numbers("") == everyone  # newest first
    assert await numbers("status=new") == [globex["number"], plain["number"]]
    assert await numbers("status=pending&status=open") == [billing["number"]]
    assert await numbers("status=new,pending&sort=created_at&order=asc") == everyone[::-1]
    assert await numbers("priority=high") == [billing["number"]]
    assert await numbers("type=incident") == [globex["number"]]
    assert await numbers("topic=billing") == [billing["number"]]
    assert await numbers("assignee=agent") == [billing["number"]]
    assert await numbers("assignee=me") == [billing["number"]]
    assert await numbers("assignee=none") == [globex["number"], plain["number"]]
    assert await numbers("requester=alice") == [plain["number"]]
    assert await numbers("tag=Hardware") == [plain["number"]]
    assert await numbers("account=globex") == [globex["number"]]
    assert await numbers("project=p2") == [billing["number"]]
    assert await numbers("escalated=yes") == [globex["number"]]
    assert await numbers("escalated=no") == [billing["number"], plain["number"]]
    assert await numbers("q=zeppelin") == [billing["number"]]
    assert await numbers("sort=priority&order=desc") == everyone  # urgent, high, normal
    assert await numbers("sort=priority&order=asc") == everyone[::-1]

    # Pages of two, following the "Next page" link.
    first = await agent.get("/agent?limit=2")
    assert listed(first.text) == everyone[:2]
    next_link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first.text)
    assert next_link
    second = await agent.get(html.unescape(next_link.group(1)))
    assert listed(second.text) == everyone[2:]
    assert 'rel="next"' not in second.text

    # The search field is the "/" shortcut; rows are j/k targets.
    assert 'name="q"' in first.text and 'data-shortcut="/"' in first.text
    assert "data-row-link" in first.text

    # What cannot be understood is said, not ignored.
    bad = await agent.get("/agent?status=sleeping&cursor=nonsense")
    assert bad.status_code == 422
    assert "status: unknown value" in bad.text
    stale = await agent.get("/agent?cursor=nonsense")
    assert stale.status_code == 422
    assert "cursor" in stale.text


async def test_the_ticket_page_shows_the_timeline_and_the_requesters_context(
    web: WebHarness, world: World
) -> None:
    older = await world.create_ticket("alice", subject="An older question")
    ticket = await world.create_ticket(
        "alice",
        subject="VPN drops",
        body="It drops **every hour**.",
        body_format="markdown",
        context={
            "user_agent": "Mozilla/5.0 (X11; Linux) TestBrowser/1.0",
            "location": "https://app.acme.test/settings/vpn",
            "request_id": "req-42",
        },
        projects=["p1"],
    )
    number = ticket["number"]
    note = await world.post(
        "agent",
        f"/api/v1/tickets/{number}/comments",
        json={"body": "Customer is on the old plan.", "internal": True},
    )
    assert note.status_code == 201
    await change(world, number, status="pending", assignee="agent2", tags=["vpn"])
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert page.status_code == 200
    text = page.text
    assert "VPN drops" in text
    assert "<strong>every hour</strong>" in text  # Markdown rendered
    note_html = text.split("Customer is on the old plan.")[0].rsplit("<li", 1)[1]
    assert 'class="message staff internal' in note_html
    assert "Internal note" in note_html
    assert "changed status from new to pending" in text
    assert "assigned the ticket to agent2" in text
    assert "changed tags from nothing to vpn" in text
    assert "filed the ticket (via api)" in text
    assert "Mozilla/5.0 (X11; Linux) TestBrowser/1.0" in text
    assert '<a href="https://app.acme.test/settings/vpn"' in text
    assert "req-42" in text
    assert "<dt>Created via</dt><dd>api</dd>" in text
    assert "alice@acme.test" in text and "Acme Corp" in text and "p1" in text
    assert f'href="/agent/tickets/{older["number"]}"' in text
    assert 'data-shortcut="r"' in text and 'data-shortcut="n"' in text


async def test_viewing_marks_the_ticket_read_by_support(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice", subject="Unread")
    assert (await api_ticket(world, ticket["number"]))["read"]["agent"] is False
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{ticket['number']}")
    assert 'class="badge unread">New<' in page.text
    assert (await api_ticket(world, ticket["number"]))["read"]["agent"] is True
    # The page's ETag is the one of the ticket as marked: a change made from it is taken.
    answer = await agent.post(
        f"/agent/tickets/{ticket['number']}/update",
        properties_form(page.text, priority="high"),
    )
    assert answer.status_code == 303, answer.text
    assert (await api_ticket(world, ticket["number"]))["priority"] == "high"


async def test_fetching_the_page_as_an_image_does_not_mark_it_read(
    web: WebHarness, world: World
) -> None:
    # A ticket body ``![x](/agent/tickets/N)`` makes the agent's browser fetch the page as
    # an image: that must not hide the customer's message as read.
    number = (await world.create_ticket("alice", subject="Unread"))["number"]
    agent = await web.sign_in("agent")
    for destination in ("image", "iframe", "empty"):
        fetched = await agent.get(
            f"/agent/tickets/{number}", headers={"Sec-Fetch-Dest": destination}
        )
        assert fetched.status_code == 200
        assert (await api_ticket(world, number))["read"]["agent"] is False, destination
    opened = await agent.get(f"/agent/tickets/{number}", headers={"Sec-Fetch-Dest": "document"})
    assert 'class="badge unread">New<' in opened.text
    assert (await api_ticket(world, number))["read"]["agent"] is True


async def test_reply_and_internal_note_with_files(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice", subject="Logs attached?")
    number = ticket["number"]
    agent = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{number}")
    answer = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "Here is the **fix**.", "internal": "0"},
        files=[("files", ("fix.txt", b"apply this", "text/plain"))],
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith(f"/agent/tickets/{number}#comment-")
    answer = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "Between us: known bug.", "internal": "1"},
        files=[("files", ("trace.log", b"stack trace", "text/plain"))],
    )
    assert answer.status_code == 303

    page = await agent.get(f"/agent/tickets/{number}")
    assert "Internal note added." in page.text  # the notice of the last post
    note_html = page.text.split("Between us: known bug.")[0].rsplit("<li", 1)[1]
    assert "internal" in note_html
    link = re.search(r'href="(/files/[^"]+/trace.log)"', page.text)
    assert link
    download = await agent.get(link.group(1))
    assert download.status_code == 200 and download.content == b"stack trace"
    assert "changed status from new to open by replying" in page.text

    # The customer sees the reply and its file, never the note.
    comments = (await world.get("alice", f"/api/v1/tickets/{number}/comments")).json()["items"]
    bodies = [c["body"] for c in comments]
    assert "Here is the **fix**." in bodies
    assert "Between us: known bug." not in bodies
    assert comments[-1]["files"][0]["filename"] == "fix.txt"
    assert (await api_ticket(world, number))["status"] == "open"


async def test_an_empty_comment_is_refused_with_the_form_kept(
    web: WebHarness, world: World
) -> None:
    ticket = await world.create_ticket("alice")
    agent = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{ticket['number']}")
    before = await world.row_counts()
    answer = await agent.post(
        f"/agent/tickets/{ticket['number']}/comment",
        {"body": "   ", "internal": "0"},
        files=[("files", ("a.txt", b"x", "text/plain"))],
    )
    assert answer.status_code == 422
    assert "Write something first." in answer.text
    assert await world.row_counts() == before


async def test_a_comment_must_say_whether_it_is_a_reply_or_a_note(
    web: WebHarness, world: World
) -> None:
    # A form sent without its submit button (implicit or scripted submit) names neither:
    # it must not go out as a reply the customer sees.
    number = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{number}")
    before = await world.row_counts()
    for fields in ({"body": "Between us."}, {"body": "Between us.", "internal": "yes"}):
        answer = await agent.post(f"/agent/tickets/{number}/comment", fields)
        assert answer.status_code == 422, fields
        assert "Nothing was sent: say whether this is a reply" in answer.text
        assert ">Between us.</textarea>" in answer.text  # the text is kept
    assert await world.row_counts() == before
    comments = (await world.get("agent", f"/api/v1/tickets/{number}/comments")).json()
    assert [c["body"] for c in comments["items"]] == ["Please help."]


async def test_property_changes_are_applied_and_appear_in_the_timeline(
    web: WebHarness, world: World
) -> None:
    ticket = await world.create_ticket("alice", subject="Change me", tags=["old"])
    number = ticket["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    form = properties_form(
        page.text,
        status="hold",
        priority="low",
        type="task",
        topic="billing/invoices",
        assignee="agent2",
        tags="Billing, refund ,",
    )
    answer = await agent.post(f"/agent/tickets/{number}/update", form)
    assert answer.status_code == 303, answer.text
    now = await api_ticket(world, number)
    assert now["status"] == "hold"
    assert now["priority"] == "low"
    assert now["type"] == "task"
    assert (now["topic"], now["subtopic"]) == ("billing", "invoices")
    assert now["assignee"]["username"] == "agent2"
    assert now["tags"] == ["billing", "refund"]

    page = await agent.get(f"/agent/tickets/{number}")
    assert "Saved:" in page.text
    for words in (
        "changed status from new to hold",
        "changed priority from normal to low",
        "changed type from question to task",
        "changed topic from nothing to billing",
        "changed subtopic from nothing to invoices",
        "assigned the ticket to agent2",
        "changed tags from old to billing, refund",
    ):
        assert words in page.text, words

    # Only what was changed is sent: unassigning touches nothing else.
    events_before = len(
        (await world.get("agent", f"/api/v1/tickets/{number}/events")).json()["items"]
    )
    answer = await agent.post(
        f"/agent/tickets/{number}/update", properties_form(page.text, assignee="")
    )
    assert answer.status_code == 303
    events = (await world.get("agent", f"/api/v1/tickets/{number}/events")).json()["items"]
    assert len(events) == events_before + 1
    assert events[-1]["type"] == "ticket.assigned"
    assert (await api_ticket(world, number))["assignee"] is None


async def test_a_stale_form_is_refused_and_changes_nothing(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice", subject="Two agents")
    number = ticket["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    # Meanwhile another agent changes the ticket.
    await world.patch("agent2", f"/api/v1/tickets/{number}", json={"priority": "high"})
    before = await world.row_counts()
    answer = await agent.post(
        f"/agent/tickets/{number}/update",
        properties_form(page.text, status="solved", assignee="agent"),
    )
    assert answer.status_code == 409
    assert "Someone changed this ticket since you opened it" in answer.text
    assert await world.row_counts() == before
    now = await api_ticket(world, number)
    assert (now["status"], now["assignee"], now["priority"]) == ("new", None, "high")
    # The answer shows the ticket as it is now, with its new ETag: trying again works.
    again = await agent.post(
        f"/agent/tickets/{number}/update",
        properties_form(answer.text, status="solved"),
    )
    assert again.status_code == 303
    assert (await api_ticket(world, number))["status"] == "solved"


async def test_bad_property_changes_say_why_and_change_nothing(
    web: WebHarness, world: World
) -> None:
    ticket = await world.create_ticket("alice", subject="Careful")
    number = ticket["number"]
    await change(world, number, status="open")
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    before = await world.row_counts()
    original = await api_ticket(world, number)

    cases: list[tuple[dict[str, str], int, str]] = [
        ({"assignee": "zed", "tags": "kept"}, 422, "no active user"),
        ({"assignee": "alice"}, 422, "is not an agent or admin"),
        ({"status": "new", "priority": "low"}, 409, "cannot go back to new"),
        ({"tags": "fine, not ok!"}, 422, "tag “not ok!”"),
        ({"topic": "nosuch"}, 422, "unknown topic"),
    ]
    for changes, status, message in cases:
        answer = await agent.post(
            f"/agent/tickets/{number}/update", properties_form(page.text, **changes)
        )
        assert answer.status_code == status, (changes, answer.text)
        assert message in html.unescape(answer.text), changes
        assert await world.row_counts() == before
        now = await api_ticket(world, number)
        assert now == original
    # The agent's input is kept in the form that was refused.
    kept = await agent.post(
        f"/agent/tickets/{number}/update",
        properties_form(page.text, assignee="zed", tags="kept"),
    )
    assert 'name="tags" value="kept"' in kept.text
    assert '<option value="zed" selected>' in kept.text


async def test_a_retired_subtopic_stays_when_other_properties_are_saved(
    web: WebHarness, world: World
) -> None:
    number = (await world.create_ticket("alice", topic="billing", subtopic="invoices"))["number"]
    retired = await world.patch("admin", "/api/v1/topics/billing", json={"subtopics": []})
    assert retired.status_code == 200, retired.text
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert (
        '<option value="billing/invoices" selected>Billing / Invoices (no longer offered)'
        in page.text
    )
    answer = await agent.post(
        f"/agent/tickets/{number}/update", properties_form(page.text, status="pending")
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == f"/agent/tickets/{number}"
    ticket = await api_ticket(world, number)
    assert (ticket["status"], ticket["topic"], ticket["subtopic"]) == (
        "pending",
        "billing",
        "invoices",
    )


async def test_the_assignee_choices_are_bounded_and_keep_the_current_one(
    web: WebHarness, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    await change(world, number, assignee="agent2")
    agent = await web.sign_in("agent")

    def offered(page: str) -> list[str]:
        select = page.split('name="assignee"')[1].split("</select>")[0]
        return re.findall(r'<option value="([^"]*)"', select)

    # Only the first of the staff by user name fits, and the assignee is kept besides.
    monkeypatch.setattr(console_ticket, "MAX_STAFF", 1)
    page = await agent.get(f"/agent/tickets/{number}")
    assert offered(page.text) == ["", "admin", "agent2"]
    assert '<option value="agent2" selected>Kim Agent<' in page.text
    monkeypatch.undo()

    # Active staff only, never customers; a deactivated assignee stays selected.
    page = await agent.get(f"/agent/tickets/{number}")
    assert offered(page.text) == ["", "admin", "agent", "agent2"]
    gone = await world.patch("admin", "/api/v1/users/agent2", json={"is_active": False})
    assert gone.status_code == 200, gone.text
    page = await agent.get(f"/agent/tickets/{number}")
    assert offered(page.text) == ["", "admin", "agent", "agent2"]
    assert '<option value="agent2" selected>Kim Agent<' in page.text
    answer = await agent.post(
        f"/agent/tickets/{number}/update", properties_form(page.text, priority="high")
    )
    assert answer.status_code == 303, answer.text
    ticket = await api_ticket(world, number)
    assert (ticket["priority"], ticket["assignee"]["username"]) == ("high", "agent2")


async def test_escalate(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice", subject="Hurry")
    number = ticket["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert f'action="/agent/tickets/{number}/escalate"' in page.text
    answer = await agent.post(f"/agent/tickets/{number}/escalate", {})
    assert answer.status_code == 303
    now = await api_ticket(world, number)
    assert (now["escalated"], now["priority"]) == (True, "urgent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert "escalated the ticket (priority normal to urgent)" in page.text
    assert f'action="/agent/tickets/{number}/escalate"' not in page.text
    # Twice is a conflict, said on the error page.
    answer = await agent.post(f"/agent/tickets/{number}/escalate", {})
    assert answer.status_code == 409
    assert "urgent already" in answer.text


async def test_scripts_in_subjects_and_comments_stay_text(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket(
        "alice",
        subject='<script>alert("s")</script>',
        body='<img src=x onerror="alert(1)"> [click](javascript:alert(2))',
        body_format="markdown",
        context={"location": "javascript:alert(3)", "user_agent": "<b>ua</b>"},
    )
    number = ticket["number"]
    agent = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{number}")
    await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": '<svg onload="alert(4)"></svg>', "internal": "1"},
    )
    for url in (f"/agent/tickets/{number}", "/agent"):
        text = (await agent.get(url)).text
        assert "<script>alert" not in text
        assert not re.search(r"<[a-z][^>]*\son(error|load)\s*=", text)  # no live handler
        assert 'href="javascript:' not in text
    text = (await agent.get(f"/agent/tickets/{number}")).text
    assert "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;" in text
    assert "&lt;b&gt;ua&lt;/b&gt;" in text
    assert "javascript:alert(3)" in text  # shown as text, not as a link


async def test_unknown_tickets_are_not_found(web: WebHarness, world: World) -> None:
    agent = await web.sign_in("agent")
    await agent.get("/agent")
    assert (await agent.get("/agent/tickets/999")).status_code == 404
    answer = await agent.post("/agent/tickets/999/comment", {"body": "hi", "internal": "0"})
    assert answer.status_code == 404
    answer = await agent.post("/agent/tickets/999/update", {"status": "open", "etag": "x"})
    assert answer.status_code == 404


async def test_forms_need_their_csrf_token(web: WebHarness, world: World) -> None:
    ticket = await world.create_ticket("alice")
    agent: Browser = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{ticket['number']}")
    answer = await agent.post(f"/agent/tickets/{ticket['number']}/escalate", {}, csrf=False)
    assert answer.status_code == 403
    assert (await api_ticket(world, ticket["number"]))["escalated"] is False


_COMMENT_IDS = re.compile(r'<li id="comment-(\d+)"')
_EARLIER = re.compile(r'href="/agent/tickets/\d+\?before=(\d+)"')


def timeline_of(page: str) -> str:
    return page.split('id="timeline-title"')[1].split("</section>")[0]


def earlier_link(page: str) -> int | None:
    found = _EARLIER.search(page)
    return int(found.group(1)) if found else None


async def comment_via_api(world: World, number: int, body: str) -> None:
    answer = await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": body})
    assert answer.status_code == 201, answer.text


async def walk_back(agent: Browser, number: int) -> list[str]:
    """The ticket's timeline pages, newest first, following each "Earlier messages"."""
    pages = []
    url = f"/agent/tickets/{number}"
    while True:
        page = await agent.get(url)
        assert page.status_code == 200, page.text
        pages.append(page.text)
        before = earlier_link(page.text)
        if before is None:
            return pages
        url = f"/agent/tickets/{number}?before={before}"


async def a_long_ticket(world: World) -> int:
    """A ticket whose comments and changes alternate: Please help. (filed), one (a
    reply, which opens it), priority high, two, tags x, three, four, assigned agent2."""
    number = (await world.create_ticket("alice", subject="A long story"))["number"]
    await comment_via_api(world, number, "Reply one")
    await change(world, number, priority="high")
    await comment_via_api(world, number, "Reply two")
    await change(world, number, tags=["x"])
    await comment_via_api(world, number, "Reply three")
    await comment_via_api(world, number, "Reply four")
    await change(world, number, assignee="agent2")
    return number


async def test_a_long_ticket_shows_its_newest_messages_and_pages_back(
    web: WebHarness, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await a_long_ticket(world)
    monkeypatch.setattr(console_ticket, "COMMENTS_PER_PAGE", 2)
    agent = await web.sign_in("agent")
    newest, middle, first = await walk_back(agent, number)

    # The newest page: the last two comments and what happened from the first of them on.
    shown = timeline_of(newest)
    assert "Reply three" in shown and "Reply four" in shown
    assert "assigned the ticket to agent2" in shown
    for older in ("Reply two", "changed tags", "Please help."):
        assert older not in shown, older
    assert "Back to the latest messages" not in newest
    # It is the newest page that marks the ticket read, not the earlier ones.
    assert (await api_ticket(world, number))["read"]["agent"] is True

    # The two before, with the changes between them and the next page's first comment.
    shown = timeline_of(middle)
    assert "Reply one" in shown and "Reply two" in shown
    assert "changed status from new to open by replying" in shown
    assert "changed priority from normal to high" in shown
    assert "changed tags from nothing to x" in shown
    for other in ("Reply three", "assigned the ticket", "Please help.", "filed the ticket"):
        assert other not in shown, other
    assert "Back to the latest messages" in middle

    # The start: the ticket's body and its filing, and no further link back.
    shown = timeline_of(first)
    assert "Please help." in shown and "filed the ticket" in shown
    assert "Reply one" not in shown and "changed status" not in shown
    # Every comment is on exactly one page.
    ids = [i for page in (newest, middle, first) for i in _COMMENT_IDS.findall(page)]
    assert len(ids) == len(set(ids)) == 5


async def test_a_stretch_with_more_changes_than_fit_moves_its_older_comments_back(
    web: WebHarness, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = await a_long_ticket(world)
    monkeypatch.setattr(console_ticket, "COMMENTS_PER_PAGE", 10)
    monkeypatch.setattr(console_ticket, "EVENTS_PER_PAGE", 2)
    agent = await web.sign_in("agent")
    pages = [timeline_of(page) for page in await walk_back(agent, number)]
    # All five comments fit, the five changes do not: the newest page keeps the newest
    # changes and only the comments from them on; the rest pages back without a gap.
    assert "Reply four" in pages[0] and "assigned the ticket to agent2" in pages[0]
    assert "Reply two" not in pages[0]
    everything = [
        "Please help.",
        "Reply one",
        "Reply two",
        "Reply three",
        "Reply four",
        "changed priority from normal to high",
        "changed tags from nothing to x",
        "assigned the ticket to agent2",
        "changed status from new to open by replying",
    ]
    for text in everything:
        assert sum(text in page for page in pages) == 1, text
    # Only "filed the ticket" can be left out: the last page has two comments and three
    # changes, of which the oldest does not fit, and says so.
    assert "Not every change of this stretch fits on the page" in pages[-1]
    assert all("filed the ticket" not in page for page in pages)


async def test_paging_back_needs_a_comment_of_this_ticket(web: WebHarness, world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    other = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{other}")
    other_comment = _COMMENT_IDS.findall(page.text)[0]
    assert (await agent.get(f"/agent/tickets/{number}?before={other_comment}")).status_code == 404
    assert (await agent.get(f"/agent/tickets/{number}?before=99999999")).status_code == 404
    assert (await agent.get(f"/agent/tickets/{number}?before=soon")).status_code == 422


async def test_a_refused_reply_keeps_the_text_and_stores_nothing(
    web: WebHarness, world: World
) -> None:
    number = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert f'action="/agent/tickets/{number}/escalate"' in page.text

    # A file larger than allowed: 413, said at the form, the text kept.
    before = await world.row_counts()
    too_big = web.app.state.settings.max_file_bytes + 1
    answer = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "See the attached dump.", "internal": "0"},
        files=[("files", ("dump.bin", b"x" * too_big, "application/octet-stream"))],
    )
    assert answer.status_code == 413, answer.text
    assert ">See the attached dump.</textarea>" in answer.text
    assert "Nothing was sent." in answer.text
    assert await world.row_counts() == before

    # Closed meanwhile (another agent, the API): 409 and the reason, the reply kept.
    closed = await world.post("agent", f"/api/v1/tickets/{number}/close", json={})
    assert closed.status_code == 200, closed.text
    before = await world.row_counts()
    answer = await agent.post(
        f"/agent/tickets/{number}/comment",
        {"body": "Here is the <fix> you wanted.", "internal": "0"},
        files=[("files", ("fix.txt", b"apply this", "text/plain"))],
    )
    assert answer.status_code == 409, answer.text
    assert "The ticket is closed and takes no more comments; reopen it first." in answer.text
    assert ">Here is the &lt;fix&gt; you wanted.</textarea>" in answer.text
    assert "Files, if any, need choosing again." in answer.text
    assert await world.row_counts() == before
    assert not any(p.is_file() for p in web.app.state.settings.files_dir.rglob("*"))
    # The page is the ticket as it is now: closed, so not offered for escalation.
    assert 'class="badge status-closed"' in answer.text
    assert f'action="/agent/tickets/{number}/escalate"' not in answer.text


async def test_a_property_missing_from_the_post_is_left_as_it_is(
    web: WebHarness, world: World
) -> None:
    ticket = await world.create_ticket("alice", topic="billing", tags=["vpn", "eu"])
    number = ticket["number"]
    await change(world, number, assignee="agent2")
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    answer = await agent.post(
        f"/agent/tickets/{number}/update", {"etag": etag_on(page.text), "priority": "high"}
    )
    assert answer.status_code == 303, answer.text
    now = await api_ticket(world, number)
    assert now["priority"] == "high"
    assert now["topic"] == "billing"
    assert now["assignee"]["username"] == "agent2"
    assert sorted(now["tags"]) == ["eu", "vpn"]
    # Sent empty, a field does clear its property.
    page = await agent.get(f"/agent/tickets/{number}")
    answer = await agent.post(
        f"/agent/tickets/{number}/update", {"etag": etag_on(page.text), "assignee": ""}
    )
    assert answer.status_code == 303, answer.text
    now = await api_ticket(world, number)
    assert now["assignee"] is None and now["topic"] == "billing"


async def test_every_staff_page_offers_the_queue_shortcuts(web: WebHarness, world: World) -> None:
    number = (await world.create_ticket("alice"))["number"]
    agent = await web.sign_in("agent")
    for url in ("/agent", f"/agent/tickets/{number}", "/agent/tickets/999"):
        page = (await agent.get(url)).text
        help_box = page.split('id="shortcut-help"')[1].split("</div>")[0]
        assert 'role="dialog" aria-labelledby="shortcut-help-title"' in help_box
        assert 'id="shortcut-help-title"' in help_box
        for queue in QUEUES:
            link = f'<a href="/agent?queue={queue.name}" data-goto="{queue.goto}">'
            assert (link in help_box) is (queue.goto is not None), (url, queue.name)
        assert 'href="/agent?focus=search" data-goto-search' in help_box
        assert "<kbd>Ctrl</kbd> + <kbd>Enter</kbd>" in help_box
    # The reply form says the limits of the settings.
    settings = web.app.state.settings
    page = (await agent.get(f"/agent/tickets/{number}")).text
    assert f"up to {settings.max_files_per_comment} files" in page
    alice = await web.sign_in("alice")
    assert 'id="shortcut-help"' not in (await alice.get("/tickets")).text
