"""The console's tools for a whole day's work: filing a ticket for a customer, a reply that
sets the status, ticking tickets for one change, and saved views in the sidebar."""

from __future__ import annotations

import re
from urllib.parse import unquote

from tests.web.conftest import WebHarness
from tests.web.test_console import api_ticket, listed


def notice_of(response_cookie: str | None) -> str:
    return unquote(response_cookie or "")


def submission_of(page: str) -> str:
    found = re.search(r'name="submission" value="([^"]+)"', page)
    assert found, "the form has no submission id"
    return found.group(1)


async def test_an_agent_files_a_ticket_for_a_customer_who_phoned(web: WebHarness) -> None:
    agent = await web.sign_in("agent")
    form = await agent.get("/agent/tickets/new", params={"who": "olga"})
    assert form.status_code == 200, form.text
    assert 'value="owner"' in form.text and "Olga Owner" in form.text
    assert 'value="agent"' not in form.text  # staff are not offered as requesters

    once = {"submission": submission_of(form.text)}
    filed = await agent.post(
        "/agent/tickets/new",
        {
            **once,
            "requester": "owner",
            "via": "phone",
            "subject": "Printer on fire",
            "body": "Called at 9:10.",
            "priority": "high",
            "topic": "billing/invoices",
            "type": "incident",
        },
    )
    assert filed.status_code == 303, filed.text
    number = int(filed.headers["location"].rsplit("/", 1)[-1])
    ticket = await api_ticket(web.world, number)
    assert ticket["requester"]["username"] == "owner" and ticket["context"]["via"] == "phone"
    assert ticket["topic"] == "billing" and ticket["subtopic"] == "invoices"
    page = await agent.get(f"/agent/tickets/{number}")
    assert "filed the ticket for owner (via phone)" in page.text
    # The same form sent twice (a double click) files one ticket.
    counts = await web.world.row_counts()
    again = await agent.post(
        "/agent/tickets/new",
        {**once, "requester": "owner", "via": "phone", "subject": "Printer on fire", "body": "x"},
    )
    assert again.headers["location"] == f"/agent/tickets/{number}"
    assert "sent already" in notice_of(again.cookies.get("helpwire_notice"))
    assert await web.world.row_counts() == counts

    fresh = submission_of((await agent.get("/agent/tickets/new")).text)
    by_mail = await agent.post(
        "/agent/tickets/new",
        {
            "submission": fresh,
            "requester": "gus@globex.test",
            "via": "walk_in",
            "subject": "Hi",
            "body": "Hello",
        },
    )
    assert by_mail.status_code == 303
    counts = await web.world.row_counts()
    fresh = submission_of((await agent.get("/agent/tickets/new")).text)
    nobody = await agent.post(
        "/agent/tickets/new",
        {"submission": fresh, "requester": "nobody", "via": "chat", "subject": "S", "body": "B"},
    )
    assert nobody.status_code == 422 and "No active user" in nobody.text
    assert 'value="S"' in nobody.text  # the form comes back as it was
    assert submission_of(nobody.text) == fresh  # and may be sent again once fixed
    assert await web.world.row_counts() == counts

    customer = await web.sign_in("owner")
    assert (await customer.get("/agent/tickets/new")).status_code == 403
    portal = await agent.get("/tickets/new")
    assert portal.headers["location"] == "/agent/tickets/new"


async def test_a_ticket_filed_for_a_customer_takes_the_custom_fields(web: WebHarness) -> None:
    for field in (
        {"key": "plan", "name": "Plan", "kind": "select", "options": ["free", "gold"]},
        {"key": "seats", "name": "Seats", "kind": "number", "visible_to_customers": False},
    ):
        field["required_topics"] = ["billing"]
        made = await web.world.post("admin", "/api/v1/fields", json=field)
        assert made.status_code == 201, made.text
    agent = await web.sign_in("agent")
    form = await agent.get("/agent/tickets/new")
    assert 'name="fields.plan"' in form.text and 'name="fields.seats"' in form.text
    filing = {"requester": "owner", "via": "chat", "subject": "Upgrade", "body": "Per chat."}
    filing["topic"] = "billing"

    counts = await web.world.row_counts()
    refused = await agent.post(
        "/agent/tickets/new",
        {**filing, "submission": submission_of(form.text), "fields.plan": "gold"},
    )
    assert refused.status_code == 422, refused.text
    assert 'name="fields.seats"' in refused.text and 'value="gold" selected' in refused.text
    assert await web.world.row_counts() == counts

    filed = await agent.post(
        "/agent/tickets/new",
        {
            **filing,
            "submission": submission_of(refused.text),
            "fields.plan": "gold",
            "fields.seats": "12",
        },
    )
    assert filed.status_code == 303, filed.text
    number = int(filed.headers["location"].rsplit("/", 1)[-1])
    assert (await api_ticket(web.world, number))["fields"] == {"plan": "gold", "seats": 12}


async def test_send_as_pending_replies_and_sets_the_status(web: WebHarness) -> None:
    number = (await web.world.create_ticket("owner"))["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert 'name="send_as" value="pending"' in page.text
    sent = await agent.post(
        f"/agent/tickets/{number}/comment", {"body": "Send the logs, please.", "send_as": "pending"}
    )
    assert sent.status_code == 303, sent.text
    ticket = await api_ticket(web.world, number)
    assert ticket["status"] == "pending"
    shown = await agent.get(f"/agent/tickets/{number}")
    assert "changed status from open to pending with their reply" in shown.text
    comments = (await web.world.get("agent", f"/api/v1/tickets/{number}/comments")).json()
    assert comments["items"][-1]["internal"] is False

    await web.world.post("agent", f"/api/v1/tickets/{number}/close", json={})
    counts = await web.world.row_counts()
    refused = await agent.post(
        f"/agent/tickets/{number}/comment", {"body": "Too late.", "send_as": "solved"}
    )
    assert refused.status_code == 409 and "Too late." in refused.text
    assert await web.world.row_counts() == counts


async def test_ticked_tickets_change_together(web: WebHarness) -> None:
    numbers = [(await web.world.create_ticket("owner"))["number"] for _ in range(3)]
    closed = numbers[2]
    await web.world.post("agent", f"/api/v1/tickets/{closed}/close", json={})
    agent = await web.sign_in("agent")
    page = await agent.get("/agent")
    assert set(listed(page.text)) >= set(numbers)
    assert re.search(rf'name="ticket" value="{numbers[0]}" form="bulk-form"', page.text)

    response = await agent.post(
        "/agent/bulk",
        {
            "ticket": [str(n) for n in numbers],
            "status": "pending",
            "assignee": "agent2",
            "add_tags": "vip, phone",
            "back": "status=new",
        },
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/agent?status=new"
    notice = notice_of(response.cookies.get("helpwire_notice"))
    assert notice.startswith("Changed 2 of 3 tickets. Not changed: #" + str(closed))
    for number in numbers[:2]:
        ticket = await api_ticket(web.world, number)
        assert ticket["status"] == "pending" and ticket["tags"] == ["phone", "vip"]
        assert ticket["assignee"]["username"] == "agent2"
    assert (await api_ticket(web.world, closed))["status"] == "closed"

    nothing = await agent.post("/agent/bulk", {"ticket": [str(numbers[0])]})
    assert "Nothing was changed" in notice_of(nothing.cookies.get("helpwire_notice"))
    unticked = await agent.post("/agent/bulk", {"status": "open"})
    assert "Tick the tickets" in notice_of(unticked.cookies.get("helpwire_notice"))


async def test_a_list_saved_as_a_view_shows_in_the_sidebar(web: WebHarness) -> None:
    for priority in ("urgent", "urgent", "low"):
        await web.world.create_ticket("owner", priority=priority)
    agent = await web.sign_in("agent")
    await agent.get("/agent")
    saved = await agent.post(
        "/agent/views", {"name": "Burning", "query": "priority=urgent&sort=updated_at"}
    )
    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    assert location.startswith("/agent?view=") and "priority=urgent" in location
    page = await agent.get(location)
    assert page.status_code == 200
    assert len(listed(page.text)) == 2
    view_id = location.split("view=")[1].split("&")[0]
    assert re.search(rf'data-view-count="{view_id}">2<', page.text)
    assert re.search(rf'href="/agent\?view={view_id}&amp;[^"]*"\s+aria-current="page"', page.text)

    other = await web.sign_in("agent2")
    assert "Burning" not in (await other.get("/agent")).text
    shared = await agent.post("/agent/views", {"name": "Team", "query": "", "shared": "1"})
    assert "only admins" in notice_of(shared.cookies.get("helpwire_notice"))

    deleted = await agent.post(f"/agent/views/{view_id}/delete")
    assert deleted.status_code == 303
    assert "Deleted the view" in notice_of(deleted.cookies.get("helpwire_notice"))
    assert "data-view-count" not in (await agent.get("/agent")).text


async def test_a_list_by_custom_fields_saved_as_a_view_keeps_them(web: WebHarness) -> None:
    made = await web.world.post(
        "admin",
        "/api/v1/fields",
        json={"key": "plan", "name": "Plan", "kind": "select", "options": ["free", "gold", "team"]},
    )
    assert made.status_code == 201, made.text
    for plan in ("free", "gold", "team"):
        await web.world.create_ticket("owner", fields={"plan": plan})
    agent = await web.sign_in("agent")
    await agent.get("/agent")

    saved = await agent.post(
        "/agent/views", {"name": "Paying", "query": "field.plan=gold&field.plan=team"}
    )

    assert saved.status_code == 303, saved.text
    location = saved.headers["location"]
    assert "field.plan=gold&field.plan=team" in location
    assert len(listed((await agent.get(location)).text)) == 2


async def test_every_ticket_of_the_list_changes_ticked_or_not(web: WebHarness) -> None:
    low = [(await web.world.create_ticket("owner", priority="low"))["number"] for _ in range(2)]
    high = (await web.world.create_ticket("owner", priority="high"))["number"]
    agent = await web.sign_in("agent")
    await agent.get("/agent?priority=low")
    response = await agent.post(
        "/agent/bulk", {"scope": "list", "back": "priority=low", "add_tags": "calm"}
    )
    assert response.status_code == 303, response.text
    assert notice_of(response.cookies.get("helpwire_notice")) == "Changed 2 of 2 tickets."
    for number in low:
        assert (await api_ticket(web.world, number))["tags"] == ["calm"]
    assert (await api_ticket(web.world, high))["tags"] == []

    broken = await agent.post(
        "/agent/bulk", {"scope": "list", "back": "priority=loud", "add_tags": "calm"}
    )
    assert "Fix the list's filters" in notice_of(broken.cookies.get("helpwire_notice"))


async def test_a_view_ranked_by_relevance_opens_newest_first_in_the_console(
    web: WebHarness,
) -> None:
    made = await web.world.post(
        "agent",
        "/api/v1/views",
        json={"name": "Printers", "filter": {"q": "printer"}, "sort": "relevance"},
    )
    assert made.status_code == 201, made.text
    agent = await web.sign_in("agent")
    page = await agent.get("/agent")
    link = re.search(r'href="(/agent\?view=[^"]+)"', page.text)
    assert link is not None
    address = link.group(1).replace("&amp;", "&")
    assert "q=printer" in address and "relevance" not in address
    assert (await agent.get(address)).status_code == 200
