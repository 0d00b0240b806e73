"""Every assembled Database hands recorded events to the outbox; none drops them silently."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.subscribers import Subscribers
from helpwire.notify.models import Delivery
from helpwire.tickets.events import EventType, record
from helpwire.tickets.models import Ticket
from tests.conftest import World


async def test_a_ticket_created_through_the_app_writes_its_outbox_rows(world: World) -> None:
    made = await world.post(
        "admin",
        "/api/v1/channels",
        json={"name": "hook", "kind": "webhook", "url": "http://127.0.0.1:9/hook"},
    )
    assert made.status_code == 201, made.text
    ticket = await world.create_ticket("alice", subject="Printer on fire", body="It smokes.")
    async with world.database.reader() as session:
        rows = (await session.scalars(select(Delivery))).unique().all()
    assert [(r.event_type, r.ticket_number) for r in rows] == [("ticket.created", ticket["number"])]


async def test_a_session_made_without_subscribers_cannot_record_an_event(world: World) -> None:
    ticket = await world.create_ticket("alice", subject="Printer on fire", body="It smokes.")
    async with world.database.writer() as made, made.begin():
        row = (await made.scalars(select(Ticket).where(Ticket.number == ticket["number"]))).one()
        # A bare session on the same engine: nobody registered any subscriber for it.
        async with AsyncSession(world.database.engine) as bare:
            with pytest.raises(RuntimeError, match="no subscribers"):
                await record(bare, ticket=row, actor=None, type=EventType.TICKET_UPDATED)


async def test_subscribers_hear_only_the_types_they_registered_for() -> None:
    heard: list[str] = []

    async def on_comment(session: AsyncSession, *, event: object, ticket: object) -> None:
        heard.append("comment")

    subscribers = Subscribers()
    subscribers.subscribe(on_comment, types=[EventType.COMMENT_CREATED.value])
    assert subscribers.for_type(EventType.COMMENT_CREATED.value) == [on_comment]
    assert subscribers.for_type(EventType.TICKET_CREATED.value) == []
