"""The console's properties form edits a ticket's custom fields, staff-only ones included,
with the service's checks and timeline, and leaves alone what the agent did not touch."""

from __future__ import annotations

from tests.conftest import World
from tests.fields.test_fields import TICKETS, a_desk
from tests.web.conftest import WebHarness
from tests.web.test_console import api_ticket, properties_form


async def test_agents_set_change_and_clear_fields_in_the_properties_form(
    web: WebHarness, world: World
) -> None:
    await a_desk(world)
    number = (await world.create_ticket("owner", fields={"plan": "free", "trial": True}))["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert 'name="fields.churn-risk"' in page.text  # staff-only fields are on the form
    form = properties_form(page.text)
    # Only the fields posted change; plan is left out of this post and stays as it is.
    form |= {"fields.seats": "12", "fields.churn-risk": "high", "fields.trial": ""}
    saved = await agent.post(f"/agent/tickets/{number}/update", form)
    assert saved.status_code == 303, saved.text
    values = (await api_ticket(world, number))["fields"]
    assert values == {"plan": "free", "seats": 12, "churn-risk": "high", "trial": False}
    events = (await world.get("agent", f"{TICKETS}/{number}/events")).json()["items"]
    # The staff-only change is an internal event apart from the others.
    assert [e["data"]["changes"] for e in events if e["internal"]] == [
        {"fields.churn-risk": {"before": None, "after": "high"}}
    ]
    assert events[-1]["data"]["changes"] == {
        "fields.seats": {"before": None, "after": 12},
        "fields.trial": {"before": True, "after": False},
    }

    page = await agent.get(f"/agent/tickets/{number}")
    assert "set the field “seats” from nothing to 12" in page.text
    form = properties_form(page.text) | {"fields.plan": "", "fields.seats": "12"}
    assert (await agent.post(f"/agent/tickets/{number}/update", form)).status_code == 303
    assert "plan" not in (await api_ticket(world, number))["fields"]


async def test_a_value_the_field_refuses_is_shown_and_nothing_changes(
    web: WebHarness, world: World
) -> None:
    await a_desk(world)
    number = (await world.create_ticket("owner", fields={"seats": 3}))["number"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    before = await world.row_counts()
    form = properties_form(page.text, status="open") | {"fields.seats": "a dozen"}
    refused = await agent.post(f"/agent/tickets/{number}/update", form)
    assert refused.status_code == 422
    assert "fields.seats: must be a number" in refused.text
    assert await world.row_counts() == before
    ticket = await api_ticket(world, number)
    assert (ticket["status"], ticket["fields"]) == ("new", {"seats": 3})
