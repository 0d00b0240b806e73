"""The console's merge (type the number, confirm), split (tick messages, submit) and
follow buttons, posted as a browser posts them; the links between the tickets on both
pages, and the Following queue."""

from __future__ import annotations

import re

from tests.conftest import World
from tests.web.conftest import WebHarness


async def test_an_agent_merges_a_ticket_after_confirming_the_target(
    web: WebHarness, world: World
) -> None:
    source = await world.create_ticket("owner", subject="Printer smoke", body="It smokes")
    target = await world.create_ticket("owner", subject="Printer broken")
    agent = await web.sign_in("agent")

    page = await agent.get(f"/agent/tickets/{source['number']}")
    assert page.status_code == 200 and 'name="merge_into"' in page.text
    asked = await agent.get(
        f"/agent/tickets/{source['number']}", params={"merge_into": f"#{target['number']}"}
    )
    assert asked.status_code == 200
    assert f"Merge #{source['number']} into #{target['number']} “Printer broken”?" in asked.text
    unknown = await agent.get(f"/agent/tickets/{source['number']}", params={"merge_into": "99999"})
    assert "There is no ticket #99999." in unknown.text

    done = await agent.post(f"/agent/tickets/{source['number']}/merge", {"into": target["number"]})
    assert done.status_code == 303
    assert done.headers["location"] == f"/agent/tickets/{target['number']}"

    target_page = (await agent.get(f"/agent/tickets/{target['number']}")).text
    assert re.search(rf'Merged in from <a href="/agent/tickets/{source["number"]}">', target_page)
    assert f">from #{source['number']}</a>" in target_page  # the moved message's badge
    assert f"merged #{source['number']} “Printer smoke” into this ticket (1 comment)" in (
        target_page
    )
    source_page = (await agent.get(f"/agent/tickets/{source['number']}")).text
    assert re.search(rf'Merged into <a href="/agent/tickets/{target["number"]}">', source_page)
    assert "A closed or merged ticket is neither merged nor split" in source_page

    again = await agent.post(f"/agent/tickets/{source['number']}/merge", {"into": target["number"]})
    assert again.status_code == 409
    assert "already. Nothing was merged." in again.text


async def test_a_merge_across_accounts_is_refused_on_the_page(
    web: WebHarness, world: World
) -> None:
    mine = await world.create_ticket("owner")
    theirs = await world.create_ticket("gus")
    agent = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{mine['number']}")
    refused = await agent.post(f"/agent/tickets/{mine['number']}/merge", {"into": theirs["number"]})
    assert refused.status_code == 422
    assert "A ticket is merged only into a ticket of the same account." in refused.text
    assert (await world.get("agent", f"/api/v1/tickets/{mine['number']}")).json()["status"] == "new"


async def test_an_agent_splits_ticked_messages_into_a_new_ticket(
    web: WebHarness, world: World
) -> None:
    source = await world.create_ticket("owner", subject="Two things")
    other = await world.post(
        "owner",
        f"/api/v1/tickets/{source['number']}/comments",
        json={"body": "Second matter"},
    )
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{source['number']}")
    assert f'name="comment_ids" value="{other.json()["id"]}"' in page.text

    nothing = await agent.post(f"/agent/tickets/{source['number']}/split", {})
    assert nothing.status_code == 422
    assert "Tick the messages to split off into a new ticket." in nothing.text

    split = await agent.post(
        f"/agent/tickets/{source['number']}/split",
        {"comment_ids": [str(other.json()["id"])], "subject": "Second matter"},
    )
    assert split.status_code == 303
    new_number = int(split.headers["location"].rsplit("/", 1)[1])
    new_page = (await agent.get(f"/agent/tickets/{new_number}")).text
    assert "Second matter" in new_page
    assert re.search(rf'Split off from <a href="/agent/tickets/{source["number"]}">', new_page)
    assert f"split this ticket off #{source['number']} (1 comment)" in new_page
    source_page = (await agent.get(f"/agent/tickets/{source['number']}")).text
    assert re.search(rf'Split off into <a href="/agent/tickets/{new_number}">', source_page)
    assert f"split 1 comment off into #{new_number} “Second matter”" in source_page
    ticket = (await world.get("agent", f"/api/v1/tickets/{new_number}")).json()
    assert ticket["relations"]["split_from"] == source["number"]
    assert ticket["context"]["via"] == "web"


async def test_following_puts_the_ticket_in_the_following_queue(
    web: WebHarness, world: World
) -> None:
    followed = await world.create_ticket("owner", subject="Keep an eye on this")
    await world.create_ticket("owner", subject="Not followed")
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{followed['number']}")
    assert 'data-follow="1"' in page.text

    done = await agent.post(f"/agent/tickets/{followed['number']}/follow", {"follow": "1"})
    assert done.status_code == 303
    page = await agent.get(f"/agent/tickets/{followed['number']}")
    assert 'data-follow="0"' in page.text and "Sam Agent (me)" in page.text
    assert "added agent to the followers" in page.text
    queue = (await agent.get("/agent", params={"queue": "following"})).text
    assert "Keep an eye on this" in queue and "Not followed" not in queue
    assert 'data-goto="f"' in queue
    counts = (await agent.get("/agent/counts")).json()
    assert counts["following"] == 1
    # Another agent's queue is their own.
    other = await web.sign_in("agent2")
    assert (await other.get("/agent/counts")).json()["following"] == 0

    await agent.post(f"/agent/tickets/{followed['number']}/follow", {"follow": "0"})
    assert (await agent.get("/agent/counts")).json()["following"] == 0
    events = (await world.get("agent", f"/api/v1/tickets/{followed['number']}/events")).json()
    changes = [e["data"]["changes"]["followers"] for e in events["items"][-2:]]
    assert changes == [{"before": [], "after": ["agent"]}, {"before": ["agent"], "after": []}]
