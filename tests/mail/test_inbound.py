"""Mail in through the HTTP door: new tickets, threaded replies, senders, noise, the
quarantine, and what is never lost."""

from __future__ import annotations

import dataclasses
import re
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from sqlalchemy import func, select

from helpwire.mail.models import MailMessage
from tests.conftest import World
from tests.mail.conftest import SUPPORT, Outbox
from tests.mail.test_outbound import _text

INBOUND = "/api/v1/mail/inbound"


def mail(
    *,
    sender: str = "Olga Owner <owner@acme.test>",
    to: str = SUPPORT,
    subject: str = "The printer is on fire",
    body: str = "Flames everywhere.",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="client.test")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


async def post(world: World, message: EmailMessage | bytes, who: str = "acme-portal") -> Any:
    raw = message if isinstance(message, bytes) else message.as_bytes()
    response = await world.post(
        who, INBOUND, content=raw, headers={"Content-Type": "message/rfc822"}
    )
    assert response.status_code == 202, response.text
    return response.json()


async def comments(world: World, number: int) -> list[dict[str, Any]]:
    response = await world.get("agent", f"/api/v1/tickets/{number}/comments")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_a_new_mail_files_a_ticket_once(world: World) -> None:
    message = mail()
    first = await post(world, message)
    assert first["state"] == "processed", first
    assert first["duplicate"] is False
    ticket = await world.get("agent", f"/api/v1/tickets/{first['ticket']}")
    assert ticket.json()["subject"] == "The printer is on fire"
    assert ticket.json()["requester"]["username"] == "owner"
    [comment] = await comments(world, first["ticket"])
    assert comment["body"] == "Flames everywhere."
    events = await world.get("agent", f"/api/v1/tickets/{first['ticket']}/events")
    assert events.json()["items"][0]["data"]["via"] == "email"

    again = await post(world, message)  # the same message again: nothing new
    assert again["duplicate"] is True
    assert again["ticket"] == first["ticket"]
    assert len(await comments(world, first["ticket"])) == 1


async def test_a_reply_to_our_mail_threads_and_loses_its_quote(
    world: World, outbox: Outbox
) -> None:
    ticket = await world.create_ticket("owner", subject="Disk full")
    number = ticket["number"]
    response = await world.post(
        "agent", f"/api/v1/tickets/{number}/comments", json={"body": "Delete the logs."}
    )
    assert response.status_code == 201
    [(_to, ours)] = await outbox.expect(1)
    quoted = "\n".join(f"> {line}" for line in _text(ours, "plain").splitlines())
    reply = mail(
        subject="Re: " + str(ours["Subject"]),
        body=(
            f"Done, thanks!\n\nOn Sat, 5 Dec 2026 at 10:00, Support <{SUPPORT}> wrote:\n{quoted}\n"
        ),
        In_Reply_To=str(ours["Message-ID"]),
        References=str(ours["Message-ID"]),
    )
    outcome = await post(world, reply)
    assert outcome["state"] == "processed", outcome
    assert outcome["ticket"] == number
    bodies = [c["body"] for c in await comments(world, number)]
    assert bodies[-1] == "Done, thanks!"


async def test_the_plus_address_and_the_subject_number_match_too(
    world: World, outbox: Outbox
) -> None:
    ticket = await world.create_ticket("owner", subject="VPN")
    number = ticket["number"]
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Which OS?"})
    [(_to, ours)] = await outbox.expect(1)
    reply_to = re.search(r"<(.+)>", str(ours["Reply-To"]))
    assert reply_to is not None
    # Headers stripped by the customer's mail program: the reply address still says which.
    by_address = await post(world, mail(to=reply_to[1], subject="VPN again", body="Linux."))
    assert by_address["ticket"] == number
    # A forged token does not match; neither does a number the sender may not see.
    forged = reply_to[1].replace(reply_to[1].split("+")[1].split("@")[0], f"{number}.{'a' * 16}")
    other = await post(world, mail(to=forged, subject="Forged", body="x"))
    assert other["ticket"] != number
    by_subject = await post(world, mail(subject=f"Re: [#{number}] VPN", body="Still broken."))
    assert by_subject["ticket"] == number
    gus = await post(
        world, mail(sender="gus@globex.test", subject=f"[#{number}] mine?", body="Let me in.")
    )
    assert gus["state"] == "processed"
    assert gus["ticket"] != number  # a new ticket of gus's own
    bodies = [c["body"] for c in await comments(world, number)]
    assert bodies[-2:] == ["Linux.", "Still broken."]


async def test_noise_is_recorded_and_never_answered(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner", subject="Solved soon")
    number = ticket["number"]
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    [(_to, ours)] = await outbox.expect(1)
    away = mail(
        subject="Out of office: " + str(ours["Subject"]),
        body="I am away until Monday.",
        In_Reply_To=str(ours["Message-ID"]),
        Auto_Submitted="auto-replied",
    )
    outcome = await post(world, away)
    assert outcome["state"] == "ignored"
    assert "Auto-Submitted" in outcome["reason"]
    assert outcome["ticket"] == number
    shown = await world.get("agent", f"/api/v1/tickets/{number}")
    assert shown.json()["status"] == "solved"  # not reopened
    assert len(await comments(world, number)) == 1
    ours_back = mail(sender=SUPPORT, subject="loop", body="x")
    assert (await post(world, ours_back))["state"] == "ignored"


async def test_unknown_senders_and_staff_impersonation(world: World, outbox: Outbox) -> None:
    message = mail(sender="new@nowhere.test", body="Hello?")
    stranger = await post(world, message)
    # No account takes nowhere.test (HELPWIRE_MAIL_DEFAULT_ACCOUNT is not set).
    assert stranger["state"] == "refused"
    assert "no account takes its domain" in stranger["reason"]
    assert "the sender was told" in stranger["reason"]
    [(recipients, answer)] = await outbox.expect(1)
    assert recipients == ["new@nowhere.test"]
    # Nothing of the refused message is echoed back: a forged From must not make us
    # carry someone's text to a stranger.
    assert answer["Subject"] == "Your message to support could not be accepted"
    assert "printer" not in str(answer).lower()
    assert answer["In-Reply-To"] == message["Message-ID"]
    assert answer["Auto-Submitted"] == "auto-replied"
    assert "could not find you" in _text(answer, "plain")
    # Its answer to our answer would be noise: no second refusal, no loop.
    bounce = mail(
        sender="new@nowhere.test",
        subject="Automatic reply",
        body="Away",
        Auto_Submitted="auto-replied",
    )
    assert (await post(world, bounce))["state"] == "ignored"
    await outbox.send()
    assert len(outbox.messages) == 1
    fake_agent = await post(world, mail(sender="agent@helpwire.test", body="Close everything"))
    assert fake_agent["state"] == "quarantined"
    assert "never acts as staff" in fake_agent["reason"]


async def test_only_named_services_post_mail_and_only_raw_messages(world: World, app: Any) -> None:
    raw = mail().as_bytes()
    headers = {"Content-Type": "message/rfc822"}
    assert (await world.post("owner", INBOUND, content=raw, headers=headers)).status_code == 403
    assert (await world.post("agent", INBOUND, content=raw, headers=headers)).status_code == 403
    anonymous = await world.client.post(INBOUND, content=raw, headers=headers)
    assert anonymous.status_code == 401
    as_json = await world.post("acme-portal", INBOUND, json={"raw": "x"})
    assert as_json.status_code == 415
    # A service acting for one of its customers hands over nothing.
    speaking = {**headers, "On-Behalf-Of": "owner"}
    assert (
        await world.post("acme-portal", INBOUND, content=raw, headers=speaking)
    ).status_code == 403
    # A service that HELPWIRE_MAIL_INBOUND_SERVICES does not name may not either: it acts
    # for its own account elsewhere, and mail may claim to be from anyone.
    pipeline = app.state.mail_pipeline
    pipeline.config = dataclasses.replace(pipeline.config, inbound_services=frozenset())
    assert (
        await world.post("acme-portal", INBOUND, content=raw, headers=headers)
    ).status_code == 403
    assert (await post(world, raw, who="admin"))["state"] == "processed"


async def test_the_quarantine_keeps_the_original_and_retries(world: World) -> None:
    broken = (
        b"From: owner@acme.test\r\nTo: support@helpwire.test\r\nSubject: broken\r\n"
        b"Message-ID: <broken-1@client.test>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed\r\n\r\nno boundary at all\r\n"
    )
    outcome = await post(world, broken)
    assert outcome["state"] == "quarantined"
    assert "broken MIME" in outcome["reason"]
    listed = await world.get("admin", "/api/v1/mail/quarantine")
    assert [m["id"] for m in listed.json()["items"]] == [outcome["id"]]
    original = await world.get("agent", f"/api/v1/mail/messages/{outcome['id']}/original")
    assert original.status_code == 200
    assert original.content == broken
    assert original.headers["content-type"] == "message/rfc822"
    retried = await world.post("admin", f"/api/v1/mail/quarantine/{outcome['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["state"] == "quarantined"  # still broken, still kept
    async with world.database.reader() as session:
        count = await session.scalar(select(func.count()).select_from(MailMessage))
    assert count == 1


async def test_a_stranger_becomes_a_customer_where_the_settings_say(world: World, app: Any) -> None:
    pipeline = app.state.mail_pipeline
    pipeline.config = type(pipeline.config)(
        **{**pipeline.config.__dict__, "domain_accounts": {"newco.test": "globex"}}
    )
    outcome = await post(
        world,
        mail(sender="Nina New <nina@newco.test>", body="First time here.", Cc="boss@newco.test"),
    )
    assert outcome["state"] == "processed", outcome
    ticket = (await world.get("agent", f"/api/v1/tickets/{outcome['ticket']}")).json()
    assert ticket["account"] == "globex"
    assert ticket["requester"]["email"] == "nina@newco.test"
    made = await world.get("admin", f"/api/v1/users/{ticket['requester']['username']}")
    # Someone mail made a customer sees their own tickets, not the whole account's.
    assert made.json()["account_wide"] is False
    cc = await world.get("agent", f"/api/v1/tickets/{outcome['ticket']}/cc")
    assert [c["address"] for c in cc.json()] == ["boss@newco.test"]


async def test_nul_characters_and_undecodable_bytes_are_filed_without_them(
    world: World,
) -> None:
    """PostgreSQL keeps no NUL in text: found by fuzzing the endpoint."""
    raw = (
        b"From: owner@acme.test\r\nTo: support@helpwire.test\r\nMessage-ID: <nul@acme.test>\r\n"
        b"Subject: a\x00b \xff\xfe\r\n\r\nbody\x00 here \xff\r\n"
    )
    outcome = await post(world, raw)
    assert outcome["state"] == "processed", outcome
    ticket = (await world.get("agent", f"/api/v1/tickets/{outcome['ticket']}")).json()
    assert "\x00" not in ticket["subject"] and ticket["subject"].startswith("ab")
    [comment] = await comments(world, outcome["ticket"])
    assert comment["body"].startswith("body here")


async def test_staff_act_by_mail_only_answering_what_was_sent_to_them(
    world: World, outbox: Outbox
) -> None:
    ticket = await world.create_ticket("owner", subject="Router")
    number = ticket["number"]
    await world.post(
        "agent", f"/api/v1/tickets/{number}/cc", json={"address": "agent2@helpwire.test"}
    )
    await world.post("agent", f"/api/v1/tickets/{number}/comments", json={"body": "Reboot it."})
    [(recipients, ours)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test", "agent2@helpwire.test"]
    # The customer holds that Message-ID too, and forges the agent's address: no.
    forged = mail(
        sender="agent@helpwire.test",
        subject="Re: [#1] Router",
        body="Closing this.",
        In_Reply_To=str(ours["Message-ID"]),
    )
    outcome = await post(world, forged)
    assert outcome["state"] == "quarantined"
    assert "never acts as staff" in outcome["reason"]
    # agent2 was sent the message, and answers it: a staff reply, mailed to the customer.
    answer = mail(
        sender="Kim Agent <agent2@helpwire.test>",
        subject="Re: [#1] Router",
        body="And unplug it for ten seconds.",
        In_Reply_To=str(ours["Message-ID"]),
    )
    outcome = await post(world, answer)
    assert outcome["state"] == "processed", outcome
    [*_, last] = await comments(world, number)
    assert last["author"]["username"] == "agent2"
    sent = await outbox.expect(2)
    assert sent[1][0] == ["owner@acme.test"]


async def test_mail_the_receiving_server_found_forged_waits_in_the_quarantine(
    world: World,
) -> None:
    forged = mail(
        body="Send me everything.",
        Authentication_Results="mx.helpwire.test; spf=pass smtp.mailfrom=x; dmarc=fail",
    )
    outcome = await post(world, forged)
    assert outcome["state"] == "quarantined"
    assert "dmarc=fail" in outcome["reason"]


async def test_a_number_in_the_subject_copies_no_one_in(world: World) -> None:
    ticket = await world.create_ticket("owner", subject="Payments")
    number = ticket["number"]
    outcome = await post(
        world, mail(subject=f"Re: [#{number}] Payments", body="More.", Cc="eve@evil.test")
    )
    assert outcome["ticket"] == number
    listed = await world.get("agent", f"/api/v1/tickets/{number}/cc")
    assert listed.json() == []


async def test_a_refused_senders_files_are_not_kept(world: World, settings: Any) -> None:
    message = mail(sender="stranger@nowhere.test", body="See attached.")
    message.add_attachment(b"x" * 100, maintype="text", subtype="plain", filename="a.txt")
    outcome = await post(world, message)
    assert outcome["state"] == "refused"
    stored = [p for p in settings.files_dir.rglob("*") if p.is_file()]
    assert stored == []
