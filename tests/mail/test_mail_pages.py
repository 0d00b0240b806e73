"""The mail in the web UI: where a message came from and its original, a ticket's CC
addresses in the console, and the admin's mail page with the quarantine."""

from __future__ import annotations

import html

from tests.conftest import World
from tests.mail.test_inbound import mail, post
from tests.web.conftest import WebHarness, web  # noqa: F401


async def test_the_console_shows_mail_and_its_original(
    web: WebHarness,  # noqa: F811
    world: World,
) -> None:
    message = mail(subject="Sent by mail", body="From my inbox.", Cc="boss@acme.test")
    outcome = await post(world, message)
    number = outcome["ticket"]
    agent = await web.sign_in("agent")
    page = await agent.get(f"/agent/tickets/{number}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "By e-mail" in text
    assert "From owner@acme.test to support@helpwire.test, cc boss@acme.test" in text
    original = await agent.get(f"/agent/mail/{outcome['id']}/original")
    assert original.status_code == 200
    assert original.content == message.as_bytes()
    shown = await agent.get(f"/agent/mail/{outcome['id']}")
    assert shown.status_code == 200
    assert "Subject: Sent by mail" in html.unescape(shown.text)
    # Whatever came is text on the page, never markup.
    sneaky = await post(world, mail(subject="<b>x</b>", body="<script>alert(1)</script>"))
    page = await agent.get(f"/agent/mail/{sneaky['id']}")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;" in page.text
    # Customers never reach the console or an original.
    owner = await web.sign_in("owner")
    assert (await owner.get(f"/agent/mail/{outcome['id']}/original")).status_code == 403
    assert (await owner.get(f"/agent/mail/{outcome['id']}")).status_code == 403


async def test_agents_add_and_remove_cc_addresses_in_the_console(
    web: WebHarness,  # noqa: F811
    world: World,
) -> None:
    ticket = await world.create_ticket("owner")
    number = ticket["number"]
    agent = await web.sign_in("agent")
    await agent.get(f"/agent/tickets/{number}")
    added = await agent.post(f"/agent/tickets/{number}/cc", {"address": "CFO@acme.test"})
    assert added.status_code == 303, added.text
    page = await agent.get(f"/agent/tickets/{number}")
    assert "cfo@acme.test" in page.text
    refused = await agent.post(f"/agent/tickets/{number}/cc", {"address": "not an address"})
    assert refused.status_code == 422
    assert "is not an e-mail address" in html.unescape(refused.text)
    await agent.get(f"/agent/tickets/{number}")
    removed = await agent.post(f"/agent/tickets/{number}/cc/remove", {"address": "cfo@acme.test"})
    assert removed.status_code == 303
    listed = await world.get("agent", f"/api/v1/tickets/{number}/cc")
    assert listed.json() == []


async def test_the_admin_sees_the_setup_the_log_and_retries_the_quarantine(
    web: WebHarness,  # noqa: F811
    world: World,
) -> None:
    kept = await post(world, mail(sender="agent@helpwire.test", subject="Pretending"))
    assert kept["state"] == "quarantined"
    admin = await web.sign_in("admin")
    page = await admin.get("/admin/mail")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Helpwire Support <support@helpwire.test>" in text  # the sender set up
    assert "Pretending" in text and "never acts as staff" in text
    received = await admin.get("/admin/mail?view=in")
    assert "Pretending" in received.text
    retried = await admin.post(f"/admin/mail/{kept['id']}/retry")
    assert retried.status_code == 303
    after = await admin.get(retried.headers["location"])
    assert "is quarantined now" in html.unescape(after.text)  # still not proven
    agent = await web.sign_in("agent")
    assert (await agent.get("/admin/mail")).status_code == 403
