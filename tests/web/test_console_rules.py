"""The console's macros (found, previewed, applied), groups and SLA on the ticket page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select, update

from helpwire.db.base import utcnow
from helpwire.tickets.models import Ticket
from tests.conftest import World
from tests.web.conftest import WebHarness


async def test_an_agent_finds_previews_and_applies_a_macro(web: WebHarness, world: World) -> None:
    macro = await world.post(
        "admin",
        "/api/v1/macros",
        json={
            "name": "Need the logs",
            "shared": True,
            "body": "Hi {{ ticket.requester.first_name }}, please send the logs.",
            "actions": [{"type": "set_status", "value": "pending"}],
        },
    )
    assert macro.status_code == 201
    await world.post(
        "admin", "/api/v1/macros", json={"name": "Refunds", "shared": True, "body": "5 days."}
    )
    number = (await world.create_ticket("owner"))["number"]
    agent = await web.sign_in("agent")

    found = await agent.get(f"/agent/tickets/{number}?macro_q=logs")
    assert found.status_code == 200
    assert "Need the logs" in found.text and "Refunds" not in found.text
    preview = await agent.get(f"/agent/tickets/{number}?macro={macro.json()['id']}")
    assert "Hi Olga, please send the logs." in html.unescape(preview.text)
    assert "Apply macro" in preview.text
    unchanged = (await world.get("agent", f"/api/v1/tickets/{number}")).json()
    assert unchanged["status"] == "new" and unchanged["comment_count"] == 1

    applied = await agent.post(
        f"/agent/tickets/{number}/macro", {"macro_id": str(macro.json()["id"])}
    )
    assert applied.status_code == 303, applied.text
    after = (await world.get("agent", f"/api/v1/tickets/{number}")).json()
    assert after["status"] == "pending" and after["comment_count"] == 2
    missing = await agent.post(f"/agent/tickets/{number}/macro", {"macro_id": "999999"})
    assert missing.status_code == 404


async def test_the_ticket_page_shows_group_and_sla_and_sets_the_group(
    web: WebHarness, world: World
) -> None:
    await world.post("admin", "/api/v1/groups", json={"key": "desk", "name": "Front desk"})
    policy = await world.post(
        "admin",
        "/api/v1/sla-policies",
        json={"name": "Standard", "targets": {"first_reply": {"minutes": 240}}},
    )
    assert policy.status_code == 201
    number = (await world.create_ticket("owner"))["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert 'data-sla="ok"' in page.text
    assert re.search(r"SLA due in [34] h", page.text)
    assert '<option value="desk"' in page.text

    etag = (await world.get("agent", f"/api/v1/tickets/{number}")).headers["ETag"]
    saved = await agent.post(f"/agent/tickets/{number}/update", {"group": "desk", "etag": etag})
    assert saved.status_code == 303, saved.text
    assert (await world.get("agent", f"/api/v1/tickets/{number}")).json()["group"] == "desk"
    page = await agent.get(f"/agent/tickets/{number}")
    assert "Front desk" in page.text
    # The console lists each group with what it has open, linked to its queue.
    console = await agent.get("/agent")
    assert 'data-group-count="desk">1<' in console.text
    queue = await agent.get("/agent?group=desk&status=new,open,pending,hold")
    assert f"/agent/tickets/{number}" in queue.text

    # Breached (as the SLA timer writes it): red on the page and in the list.
    async with world.database.writing() as session:
        shown = await session.scalar(select(Ticket).where(Ticket.number == number))
        assert shown is not None and shown.sla is not None
        await session.execute(
            update(Ticket)
            .where(Ticket.number == number)
            .values(
                sla_breached=True,
                sla={
                    **shown.sla,
                    "breaches": [
                        {
                            "target": "first_reply",
                            "due_at": (utcnow() - timedelta(minutes=1)).isoformat(),
                            "breached_at": utcnow().isoformat(),
                        }
                    ],
                },
            )
        )
    page = await agent.get(f"/agent/tickets/{number}")
    assert 'data-sla="breached"' in page.text and "First reply missed" in page.text
    listed = await agent.get("/agent?queue=sla_breached")
    assert f"/agent/tickets/{number}" in listed.text and 'data-sla="breached"' in listed.text
    by_due = await agent.get("/agent?sort=sla_due_at&order=asc")
    assert by_due.status_code == 200 and f"/agent/tickets/{number}" in by_due.text


async def test_the_timeline_says_what_rules_and_clocks_did(web: WebHarness, world: World) -> None:
    trigger = await world.post(
        "admin",
        "/api/v1/triggers",
        json={
            "name": "Tag new",
            "events": ["ticket.created"],
            "actions": [{"type": "add_tags", "value": ["fresh"]}],
        },
    )
    assert trigger.status_code == 201
    number = (await world.create_ticket("owner"))["number"]
    agent = await web.sign_in("agent")
    page = html.unescape((await agent.get(f"/agent/tickets/{number}")).text)
    assert "ran the trigger “Tag new” (ticket.created): changed tags" in page
