"""Mail out to a ticket's people: what is sent, to whom, and how it threads."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import Message
from email.utils import getaddresses
from typing import Any

from sqlalchemy import select

from helpwire.mail.models import MailMessage
from helpwire.notify.models import Delivery, DeliveryAttempt
from tests.conftest import World
from tests.mail.conftest import SUPPORT, Outbox
from tests.relays import FakeClock


def _text(message: Message, subtype: str) -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


def _addresses(message: Message, header: str) -> list[str]:
    return [address for _name, address in getaddresses(message.get_all(header, []))]


async def _reply(world: World, number: int, body: str, who: str = "agent", **extra: Any) -> None:
    response = await world.post(
        who, f"/api/v1/tickets/{number}/comments", json={"body": body, **extra}
    )
    assert response.status_code == 201, response.text


async def test_a_staff_reply_reaches_the_requester_threaded(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner", subject="Printer on fire")
    number = ticket["number"]
    await _reply(world, number, "Please switch it off first.")

    [(recipients, first)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test"]
    assert _addresses(first, "To") == ["owner@acme.test"]
    assert _addresses(first, "From") == [SUPPORT]
    assert first["Subject"] == f"[#{number}] Printer on fire"
    reply_to = _addresses(first, "Reply-To")[0]
    assert re.fullmatch(rf"support\+{number}\.[a-z2-7]{{16}}@helpwire\.test", reply_to)
    first_id = first["Message-ID"]
    assert re.fullmatch(rf"<hw\.{number}\.[0-9a-f]{{20}}@helpwire\.test>", first_id)
    assert first["In-Reply-To"] is None  # the first message of the thread
    assert first["Auto-Submitted"] is None  # a person wrote it
    assert first["Content-Language"] == "en"
    assert first.get_content_type() == "multipart/alternative"
    assert "Please switch it off first." in _text(first, "plain")
    assert "Sam Agent wrote" in _text(first, "plain")
    assert "<p>Please switch it off first.</p>" in _text(first, "html")
    assert f"http://helpwire.test/tickets/{number}" in _text(first, "plain")

    await _reply(world, number, "Now unplug it.")
    second = (await outbox.expect(2))[1][1]
    assert second["Subject"] == first["Subject"]
    assert second["In-Reply-To"] == first_id
    assert second["References"] == first_id
    assert second["Message-ID"] != first_id

    await _reply(world, number, "And call the fire brigade.")
    third = (await outbox.expect(3))[2][1]
    assert third["In-Reply-To"] == second["Message-ID"]
    assert third["References"].split() == [first_id, second["Message-ID"]]


async def test_a_replys_files_are_attached_up_to_the_limit_and_linked_past_it(
    world: World, outbox: Outbox
) -> None:
    ticket = await world.create_ticket("owner")
    small = await world.upload("agent", "notes.txt", b"first line\n" * 100)
    big = await world.upload(
        "agent", "dump.bin", bytes(range(256)) * 40, "application/octet-stream"
    )
    await _reply(world, ticket["number"], "Two files.", files=[small["id"], big["id"]])
    [(_to, message)] = await outbox.expect(1)
    assert message.get_content_type() == "multipart/mixed"
    attached = [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in message.walk()
        if part.get_filename()
    ]
    assert attached == [("notes.txt", "text/plain", b"first line\n" * 100)]
    text = _text(message, "plain")
    assert "Attached: notes.txt" in text
    assert f"dump.bin: http://helpwire.test/files/{big['id']}/dump.bin" in text
    assert f'href="http://helpwire.test/files/{big["id"]}/dump.bin"' in _text(message, "html")


async def test_html_in_a_reply_is_escaped_in_the_html_part(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner")
    await _reply(world, ticket["number"], "<script>alert(1)</script> & more")
    [(_to, message)] = await outbox.expect(1)
    html = _text(message, "html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


async def test_no_mail_for_notes_or_for_what_the_customer_did(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner")
    number = ticket["number"]
    await _reply(world, number, "Only for us", internal=True)
    await _reply(world, number, "A customer's own words", who="owner")
    response = await world.post("owner", f"/api/v1/tickets/{number}/close", json={})
    assert response.status_code == 200, response.text
    await outbox.send()
    async with world.database.reader() as session:
        queued = (await session.scalars(select(MailMessage))).all()
    assert queued == []
    assert outbox.messages == []


async def test_a_chosen_status_change_by_staff_is_mailed(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner", subject="Old request")
    number = ticket["number"]
    # Pending is not among the statuses mailed (HELPWIRE_MAIL_NOTIFY_STATUSES).
    await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "pending"})
    response = await world.post("agent", f"/api/v1/tickets/{number}/close", json={})
    assert response.status_code == 200, response.text
    [(recipients, message)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test"]
    assert "is now: closed" in _text(message, "plain")
    assert message["Auto-Submitted"] == "auto-generated"
    assert len(outbox.messages) == 1


async def test_solving_mails_rating_links_that_record_the_score(
    world: World, outbox: Outbox
) -> None:
    ticket = await world.create_ticket("owner", subject="Slow disk")
    number = ticket["number"]
    response = await world.patch("agent", f"/api/v1/tickets/{number}", json={"status": "solved"})
    assert response.status_code == 200, response.text

    [(recipients, message)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test"]
    assert message["Auto-Submitted"] == "auto-generated"
    text = _text(message, "plain")
    assert "has been solved" in text
    assert "Hello Olga Owner" in text
    links = re.findall(r"http://helpwire\.test(/mail/rate/\S+)", text)
    assert len(links) == 5
    four = next(link for link in links if f"/mail/rate/{number}/4?" in link)

    page = await world.client.get(four)
    assert page.status_code == 200, page.text
    assert "4 of 5" in page.text
    rated = await world.get("owner", f"/api/v1/tickets/{number}")
    assert rated.json()["rating"]["score"] == 4

    forged = re.sub(r"s=[a-z2-7]+", "s=" + "a" * 16, four)
    assert (await world.client.get(forged)).status_code == 404
    other_score = four.replace(f"/{number}/4?", f"/{number}/2?")
    assert (await world.client.get(other_score)).status_code == 200
    rated = await world.get("owner", f"/api/v1/tickets/{number}")
    assert rated.json()["rating"]["score"] == 2
    # A link of one ticket rates no other.
    other = await world.create_ticket("owner")
    moved = four.replace(f"/rate/{number}/", f"/rate/{other['number']}/")
    assert (await world.client.get(moved)).status_code == 404


async def test_cc_addresses_hear_the_public_conversation(world: World, outbox: Outbox) -> None:
    ticket = await world.create_ticket("owner")
    number = ticket["number"]
    added = await world.post(
        "agent", f"/api/v1/tickets/{number}/cc", json={"address": " CFO@Acme.test "}
    )
    assert added.status_code == 201, added.text
    assert added.json()["address"] == "cfo@acme.test"
    again = await world.post(
        "agent", f"/api/v1/tickets/{number}/cc", json={"address": "cfo@acme.test"}
    )
    assert again.status_code == 200
    await _reply(world, number, "Copying your CFO.")
    [(recipients, message)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test", "cfo@acme.test"]
    assert _addresses(message, "Cc") == ["cfo@acme.test"]


async def test_a_requester_who_reads_german_gets_german_mail(world: World, outbox: Outbox) -> None:
    changed = await world.patch("admin", "/api/v1/users/owner", json={"language": "de-AT"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "de-at"
    ticket = await world.create_ticket("owner", subject="Drucker brennt")
    await world.patch("agent", f"/api/v1/tickets/{ticket['number']}", json={"status": "solved"})
    [(_to, message)] = await outbox.expect(1)
    assert message["Content-Language"] == "de"
    text = _text(message, "plain")
    assert "ist gelöst" in text
    assert "sehr gut" in text


async def test_a_failed_send_is_retried_and_logged(
    world: World, outbox: Outbox, clock: FakeClock
) -> None:
    ticket = await world.create_ticket("owner")
    await _reply(world, ticket["number"], "First try fails.")
    server = outbox.server
    server.mailbox.refuse_next = 1
    await outbox.send()
    assert outbox.messages == []
    async with world.database.reader() as session:
        delivery = await session.scalar(
            select(Delivery).where(Delivery.event_type == "mail.message")
        )
        assert delivery is not None
        assert delivery.state == "failed"
    clock.advance(timedelta(hours=1))
    [(recipients, _message)] = await outbox.expect(1)
    assert recipients == ["owner@acme.test"]
    async with world.database.reader() as session:
        attempts = (await session.scalars(select(DeliveryAttempt.outcome))).all()
    assert attempts == ["retry", "delivered"]
