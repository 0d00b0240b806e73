"""A new ticket goes in by one INSERT and joins the session as loaded (tickets/inserting.py):
its tags and projects are written, and later changes in the same transaction are kept."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from helpwire.accounts.actor import load_actor
from helpwire.accounts.models import User
from helpwire.tickets.inserting import insert_ticket
from helpwire.tickets.models import Ticket
from helpwire.tickets.schemas import TicketCreate
from helpwire.tickets.service import create_ticket
from tests.conftest import World

TICKETS = "/api/v1/tickets"


async def test_a_new_tickets_tags_projects_and_later_changes_are_kept(world: World) -> None:
    async with world.database.writing() as session:
        owner = await session.scalar(select(User).where(User.username == "owner"))
        assert owner is not None
        actor = await load_actor(session, user=owner)
        new = TicketCreate(
            subject="Printer on fire",
            body="Smoke everywhere.",
            tags=["printer", "fire"],
            projects=["p2", "p1"],
        )
        ticket = await create_ticket(session, actor=actor, new=new)
        ticket.priority = "urgent"  # a change after the INSERT, in the same transaction
        number = ticket.number

    shown = (await world.get("agent", f"{TICKETS}/{number}")).json()
    assert shown["priority"] == "urgent"
    assert shown["tags"] == ["fire", "printer"]
    assert shown["projects"] == ["p1", "p2"]
    assert shown["subject"] == "Printer on fire"
    assert shown["comment_count"] == 1


async def test_a_ticket_with_a_relationship_left_unset_is_refused(world: World) -> None:
    async with world.database.writing() as session:
        with pytest.raises(ValueError, match="assignee"):
            await insert_ticket(session, Ticket(subject="Half made"))
