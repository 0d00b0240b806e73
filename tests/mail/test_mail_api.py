"""The mail API: CC addresses, templates, the message log, and the mail channel."""

from __future__ import annotations

from sqlalchemy import select

from helpwire.mail.channel import prepare_mail_channel, sync_mail_channel
from helpwire.mail.config import MailConfig
from helpwire.mail.models import MailTemplate
from helpwire.notify.models import Channel
from helpwire.settings import Settings
from tests.conftest import World
from tests.mail.conftest import Outbox
from tests.mail.test_inbound import mail, post
from tests.mail.test_outbound import _reply, _text


async def test_cc_list_add_remove_and_who_may(world: World) -> None:
    ticket = await world.create_ticket("owner")
    url = f"/api/v1/tickets/{ticket['number']}/cc"
    refused = await world.post("owner", url, json={"address": "x@acme.test"})
    assert refused.status_code == 403
    for bad in ("not-an-address", "a@b.test, c@d.test", "<a@b.test>"):
        response = await world.post("agent", url, json={"address": bad})
        assert response.status_code == 422, bad
    assert (await world.post("agent", url, json={"address": "x@acme.test"})).status_code == 201
    assert (await world.post("agent", url, json={"address": "y@acme.test"})).status_code == 201

    listed = await world.get("owner", url)  # the requester sees who is copied
    assert listed.status_code == 200
    assert [(c["address"], c["added_by"]) for c in listed.json()] == [
        ("x@acme.test", "agent"),
        ("y@acme.test", "agent"),
    ]
    # Someone who may not see the ticket learns nothing of it.
    assert (await world.get("gus", url)).status_code == 404

    assert (await world.request("owner", "DELETE", f"{url}/x@acme.test")).status_code == 403
    assert (await world.request("agent", "DELETE", f"{url}/X@Acme.test")).status_code == 204
    assert (await world.request("agent", "DELETE", f"{url}/x@acme.test")).status_code == 204
    assert [c["address"] for c in (await world.get("agent", url)).json()] == ["y@acme.test"]

    events = await world.get("agent", f"/api/v1/tickets/{ticket['number']}/events")
    changes = [e["data"]["changes"]["cc"] for e in events.json()["items"] if "changes" in e["data"]]
    assert changes == [
        {"before": [], "after": ["x@acme.test"]},
        {"before": ["x@acme.test"], "after": ["x@acme.test", "y@acme.test"]},
        {"before": ["x@acme.test", "y@acme.test"], "after": ["y@acme.test"]},
    ]


async def test_an_admins_template_is_checked_then_used(world: World, outbox: Outbox) -> None:
    url = "/api/v1/mail/templates/reply/en"
    shipped = await world.get("admin", url)
    assert shipped.status_code == 200
    assert shipped.json()["customized"] is False
    assert (await world.get("agent", url)).status_code == 403
    assert (await world.get("admin", "/api/v1/mail/templates/nope/en")).status_code == 404
    assert (await world.get("admin", "/api/v1/mail/templates/reply/xx")).status_code == 404

    broken = {"subject": "{{ ticket.number", "text": "x", "html": "x"}
    response = await world.request("admin", "PUT", url, json=broken)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "template_error"
    # The sandbox: no way from a template to the process's objects.
    escape = {
        "subject": "Hi",
        "text": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "html": "x",
    }
    assert (await world.request("admin", "PUT", url, json=escape)).status_code == 422

    mine = {
        "subject": "Answer on {{ ticket.subject }}",
        "text": "{{ comment.author }} says: {{ comment.text }}",
        "html": "<p>{{ comment.text }}</p>",
    }
    saved = await world.request("admin", "PUT", url, json=mine)
    assert saved.status_code == 200, saved.text
    assert saved.json()["customized"] is True
    listed = await world.get("admin", "/api/v1/mail/templates")
    kinds = {(t["kind"], t["language"]): t["customized"] for t in listed.json()}
    assert kinds[("reply", "en")] is True
    assert kinds[("reply", "de")] is False
    assert len(kinds) == 8  # reply, solved, status, refused; English and German

    ticket = await world.create_ticket("owner", subject="Fan noise")
    await _reply(world, ticket["number"], "It <b>is</b> loud.")
    [(_to, message)] = await outbox.expect(1)
    # The number is put back in front of a subject that left it out: replies match by it.
    assert message["Subject"] == f"[#{ticket['number']}] Answer on Fan noise"
    assert _text(message, "plain").strip() == "Sam Agent says: It <b>is</b> loud."
    assert "It &lt;b&gt;is&lt;/b&gt; loud." in _text(message, "html")

    reset = await world.request("admin", "DELETE", url)
    assert reset.status_code == 200
    assert reset.json()["customized"] is False


async def test_the_message_log_shows_what_was_sent(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner", subject="Logged")
    await _reply(world, ticket["number"], "One")
    await outbox.expect(1)
    page = await world.get("admin", "/api/v1/mail/messages", params={"direction": "out"})
    assert page.status_code == 200, page.text
    [item] = page.json()["items"]
    assert item["ticket_number"] == ticket["number"]
    assert item["kind"] == "reply"
    assert item["recipients"] == ["owner@acme.test"]
    assert item["delivery_state"] == "delivered"
    assert item["subject"] == f"[#{ticket['number']}] Logged"
    delivery = await world.get("admin", f"/api/v1/deliveries/{item['delivery_id']}")
    assert [a["outcome"] for a in delivery.json()["attempts"]] == ["delivered"]
    assert (await world.get("agent", "/api/v1/mail/messages")).status_code == 403
    other = await world.get("admin", "/api/v1/mail/messages", params={"direction": "in"})
    assert other.json()["items"] == []


async def test_the_mail_channel_is_helpwires_own(world: World, settings: Settings) -> None:
    # What `helpwire serve` and `helpwire relay` do at start.
    await prepare_mail_channel(world.database, MailConfig.from_settings(settings))
    channels = (await world.get("admin", "/api/v1/channels")).json()
    [mail] = [c for c in channels if c["kind"] == "customer_mail"]
    assert mail["managed_by"] == "mail"
    assert "password" not in mail["email"]
    made = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "mine", "kind": "customer_mail", "events": ["ticket.created"]},
    )
    assert made.status_code == 422
    url = f"/api/v1/channels/{mail['id']}"
    assert (await world.request("admin", "DELETE", url)).status_code == 409
    assert (await world.patch("admin", url, json={"enabled": False})).status_code == 409
    assert (await world.post("admin", f"{url}/test")).status_code == 409


async def test_without_mail_settings_the_channel_waits(world: World, settings: Settings) -> None:
    """Taking HELPWIRE_MAIL_SMTP_URL away disables the channel (its mail waits), never
    deletes it; setting it again enables it."""
    await prepare_mail_channel(world.database, MailConfig.from_settings(settings))
    async with world.database.writing() as session:
        await sync_mail_channel(session, None)
    async with world.database.reader() as session:
        channel = await session.scalar(select(Channel).where(Channel.kind == "customer_mail"))
        assert channel is not None
        assert channel.enabled is False
        assert "HELPWIRE_MAIL_SMTP_URL" in (channel.disabled_reason or "")
    await prepare_mail_channel(world.database, MailConfig.from_settings(settings))
    async with world.database.reader() as session:
        channel = await session.scalar(select(Channel).where(Channel.kind == "customer_mail"))
        assert channel is not None and channel.enabled is True


async def test_a_template_that_fails_on_real_values_never_stops_a_reply(
    world: World, outbox: Outbox
) -> None:
    url = "/api/v1/mail/templates/reply/en"
    # A reply has no rating links: checked in each shape a reply is rendered in.
    needs_links = {"subject": "x", "text": "{{ rating[0].url }}", "html": "x"}
    refused = await world.request("admin", "PUT", url, json=needs_links)
    assert refused.status_code == 422
    # Should one fail anyway (kept before this check, or a value no sample has), the
    # shipped template is used and the reply goes out.
    async with world.database.writing() as session:
        session.add(
            MailTemplate(
                kind="reply", language="en", subject="s", text="{{ rating[0].url }}", html="h"
            )
        )
    ticket = await world.create_ticket("owner", subject="Still mailed")
    response = await world.post(
        "agent", f"/api/v1/tickets/{ticket['number']}/comments", json={"body": "Hello."}
    )
    assert response.status_code == 201
    [(_to, message)] = await outbox.expect(1)
    assert "Sam Agent wrote" in _text(message, "plain")


async def test_long_message_ids_thread_unfolded(world: World, outbox: Outbox) -> None:
    """Outlook's Message-IDs run past 78 characters; folded into encoded words, mail
    programs do not thread by them."""
    long_id = "AM6PR05MB6231" + "A1B2C3D4E5F6" * 6 + "@AM6PR05MB6231.eurprd05.prod.outlook.test"
    asking = mail(body="Help.")
    asking.replace_header("Message-ID", f"<{long_id}>")
    first = await post(world, asking)
    await world.post("agent", f"/api/v1/tickets/{first['ticket']}/comments", json={"body": "Sure."})
    [(_to, answer)] = await outbox.expect(1)
    assert answer["In-Reply-To"] == f"<{long_id}>"
    raw = outbox.server.mailbox.raw[0]
    assert f"In-Reply-To: <{long_id}>".encode() in raw
