"""A rule's e-mail action, sent through the mail channel to a real SMTP server."""

from __future__ import annotations

from tests.conftest import World
from tests.mail.conftest import Outbox


async def test_a_trigger_mails_the_requester_about_their_ticket(
    world: World, outbox: Outbox
) -> None:
    made = await world.post(
        "admin",
        "/api/v1/triggers",
        json={
            "name": "Acknowledge",
            "events": ["ticket.created"],
            "actions": [
                {
                    "type": "email",
                    "to": "requester",
                    "subject": "We have your request",
                    "value": "Hello {{ ticket.requester.first_name }}, "
                    "ticket {{ ticket.number }} is in.",
                },
                {"type": "email", "to": "nobody@elsewhere.test", "subject": "FYI", "value": "New."},
            ],
        },
    )
    assert made.status_code == 201, made.text
    number = (await world.create_ticket("owner", subject="Broken"))["number"]
    received = await outbox.expect(2)
    by_recipient = {recipients[0]: message for recipients, message in received}
    ack = by_recipient["owner@acme.test"]
    assert ack["Subject"] == f"[#{number}] We have your request"
    assert ack["Auto-Submitted"] == "auto-generated"
    payload = ack.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert payload.decode().strip() == f"Hello Olga, ticket {number} is in."
    assert by_recipient["nobody@elsewhere.test"]["Subject"] == f"[#{number}] FYI"
    events = (await world.get("agent", f"/api/v1/tickets/{number}/events")).json()["items"]
    line = next(e["data"] for e in events if e["type"] == "rule.applied")
    assert line["done"] == ["e-mailed requester", "e-mailed nobody@elsewhere.test"]
