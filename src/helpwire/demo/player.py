"""Playing planned tickets through the core services, then dating them in the past.

Every step goes through the service call a request would make (create_ticket,
add_comment_to, update_ticket, escalate_ticket, close_ticket, rate_ticket, rate_comment),
so the search index, the timeline of events, comment counts and ticket numbers are exactly
what real use leaves behind. The one exception is reading: mark_read only sets a side's
read time, so the player sets that time itself (to the planned moment) rather than pay
for a service call that would look the ticket up again just to set it to "now".

The services date everything "now", and a demo that happened entirely in the last minute
shows nothing: no history, no ages, no old closed tickets. So the player dates what each
step writes to the step's planned moment: at every flush, the ticket, comments and events
about to be written get the step's moment in place of "now", in the same transaction, so
that nothing is written twice and nobody sees the intermediate value. Every value the
services write during the run is later than the run's start and every planned moment is
earlier, which is how a value still to be re-dated is recognised. Steps are planned in
order after the ticket's creation, so nothing is dated before its ticket, and the
timeline's times follow the order of its ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from helpwire.accounts.actor import Actor, load_actor
from helpwire.accounts.models import User
from helpwire.demo.plans import Move, Step, TicketPlan
from helpwire.tickets import comments as comment_service
from helpwire.tickets import service
from helpwire.tickets.models import BodyFormat, Comment, Event, Ticket
from helpwire.tickets.schemas import ContextIn, TicketCreate, TicketUpdate

# The times each kind of row carries, that a service may have set to "now".
_DATED_FIELDS: dict[type[Any], tuple[str, ...]] = {
    Ticket: (
        "created_at",
        "updated_at",
        "solved_at",
        "closed_at",
        "rated_at",
        "customer_read_at",
        "agent_read_at",
        "last_customer_activity_at",
        "last_agent_activity_at",
    ),
    Comment: ("created_at", "rated_at"),
    Event: ("created_at",),
}


@dataclass
class Tally:
    """What the demo made, for the summary."""

    tickets: int = 0
    comments: int = 0
    internal_notes: int = 0
    ticket_ratings: int = 0
    reply_ratings: int = 0
    escalations: int = 0


@dataclass
class _Redater:
    """Dates what a ticket's steps write: at each flush, rows about to be written get the
    current step's moment in place of "now"; after each step, whatever is still dated "now"
    (set after the service's last flush) is re-dated in memory and written by the next."""

    started_at: datetime
    at: datetime | None = None
    ticket_rows: list[object] = field(default_factory=list)

    def begin_step(self, at: datetime) -> None:
        self.at = at

    def begin_ticket(self, at: datetime) -> None:
        self.ticket_rows.clear()
        self.at = at

    def before_flush(self, session: Session, _context: Any, _instances: Any) -> None:
        for row in session.new:
            if isinstance(row, Comment | Event):
                self._date(row)
                self.ticket_rows.append(row)
            elif isinstance(row, Ticket):
                self._date(row)
        for row in session.dirty:
            if isinstance(row, Ticket | Comment | Event):
                self._date(row)

    def after_step(self, ticket: Ticket) -> None:
        for row in (ticket, *self.ticket_rows):
            self._date(row)
        # A tag's row carries a copy of its ticket's creation time (migration 0013).
        for tag_row in ticket.tag_rows:
            if tag_row.ticket_created_at != ticket.created_at:
                tag_row.ticket_created_at = ticket.created_at

    def _date(self, row: object) -> None:
        assert self.at is not None
        for name in _DATED_FIELDS[type(row)]:
            value = getattr(row, name)
            if value is not None and value >= self.started_at:
                setattr(row, name, self.at)


@contextmanager
def _watching(session: AsyncSession, redater: _Redater) -> Iterator[None]:
    target = session.sync_session
    event.listen(target, "before_flush", redater.before_flush)
    try:
        yield
    finally:
        event.remove(target, "before_flush", redater.before_flush)


async def _actors(session: AsyncSession, user_ids: dict[str, int]) -> dict[str, Actor]:
    """The demo's people as actors of this session (one query, plus project memberships of
    the project-only customers)."""
    users = (await session.scalars(select(User).where(User.id.in_(user_ids.values())))).all()
    return {user.username: await load_actor(session, user=user) for user in users}


@dataclass
class Player:
    session: AsyncSession
    actors: dict[str, Actor]
    redater: _Redater
    tally: Tally

    async def play(self, plan: TicketPlan) -> None:
        self.redater.begin_ticket(plan.created_at)
        requester = self.actors[plan.requester]
        ticket = await service.create_ticket(
            self.session,
            actor=requester,
            new=TicketCreate(
                subject=plan.subject,
                body=plan.body,
                body_format=BodyFormat.MARKDOWN,
                type=plan.type,
                priority=plan.priority,
                topic=plan.topic,
                subtopic=plan.subtopic,
                tags=list(plan.tags),
                access_level=plan.access_level,
                projects=list(plan.projects),
                context=ContextIn(
                    request_id=plan.request_id,
                    user_agent=plan.user_agent,
                    location=plan.location,
                    info=plan.info,
                ),
            ),
            via=plan.via,
        )
        self.redater.after_step(ticket)
        self.tally.tickets += 1
        self.tally.comments += 1
        last_reply: Comment | None = None
        for step in plan.steps:
            self.redater.begin_step(step.at)
            reply = await self._perform(step, plan=plan, ticket=ticket, last_reply=last_reply)
            last_reply = reply or last_reply
            self.redater.after_step(ticket)

    async def _perform(
        self, step: Step, *, plan: TicketPlan, ticket: Ticket, last_reply: Comment | None
    ) -> Comment | None:
        """Do one step; the agent's public reply it wrote, if any (for thumbs later)."""
        agent, customer = self.actors[plan.agent], self.actors[plan.requester]
        number = ticket.number
        match step.move:
            case Move.AGENT_REPLY | Move.INTERNAL_NOTE:
                internal = step.move == Move.INTERNAL_NOTE
                comment = await self._comment(agent, ticket, step.text, internal=internal)
                return None if internal else comment
            case Move.CUSTOMER_REPLY:
                await self._comment(customer, ticket, step.text, internal=False)
            case Move.CUSTOMER_READS:
                ticket.customer_read_at = step.at
            case Move.AGENT_READS:
                ticket.agent_read_at = step.at
            case Move.UPDATE:
                await self._update(agent, number, _changes(step, plan=plan, ticket=ticket))
            case Move.ESCALATE:
                await service.escalate_ticket(self.session, actor=agent, number=number)
                self.tally.escalations += 1
            case Move.THUMB:
                if last_reply is not None and step.score is not None:
                    await comment_service.rate_comment(
                        self.session,
                        actor=customer,
                        comment_id=last_reply.id,
                        score=step.score,
                        comment_text=step.text or None,
                    )
                    self.tally.reply_ratings += 1
            case Move.RATE:
                assert step.score is not None
                await service.rate_ticket(
                    self.session,
                    actor=customer,
                    number=number,
                    score=step.score,
                    comment=step.text or None,
                )
                self.tally.ticket_ratings += 1
            case Move.CLOSE_RATED:
                await service.close_ticket(
                    self.session,
                    actor=customer,
                    number=number,
                    score=step.score,
                    comment=step.text or None,
                )
                self.tally.ticket_ratings += 1
            case Move.CLOSE:
                if step.text:
                    self.tally.comments += 1
                await service.close_ticket(
                    self.session, actor=agent, number=number, comment=step.text or None
                )
        return None

    async def _comment(self, actor: Actor, ticket: Ticket, text: str, *, internal: bool) -> Comment:
        # add_comment_to takes the ticket this session holds already: add_comment would
        # look it up by number again for every comment.
        comment = await service.add_comment_to(
            self.session,
            actor=actor,
            ticket=ticket,
            body=text,
            body_format=BodyFormat.MARKDOWN,
            internal=internal,
            file_ids=(),
            max_files=0,
        )
        self.tally.comments += 1
        self.tally.internal_notes += int(internal)
        return comment

    async def _update(self, actor: Actor, number: int, changes: TicketUpdate) -> None:
        await service.update_ticket(self.session, actor=actor, number=number, changes=changes)


def _changes(step: Step, *, plan: TicketPlan, ticket: Ticket) -> TicketUpdate:
    """The fields an UPDATE step sets, and only those (a field left out stays as it is)."""
    fields: dict[str, Any] = {}
    if step.status is not None:
        fields["status"] = step.status
    if step.assign:
        fields["assignee"] = plan.agent
    if step.priority is not None:
        fields["priority"] = step.priority
    if step.tags:
        fields["tags"] = sorted(set(ticket.tags) | set(step.tags))
    return TicketUpdate.model_validate(fields)


async def play_batch(
    session: AsyncSession,
    *,
    plans: list[TicketPlan],
    user_ids: dict[str, int],
    started_at: datetime,
    tally: Tally,
) -> None:
    """Play ``plans`` in the caller's transaction."""
    redater = _Redater(started_at=started_at)
    player = Player(
        session=session, actors=await _actors(session, user_ids), redater=redater, tally=tally
    )
    with _watching(session, redater):
        for plan in plans:
            await player.play(plan)
        await session.flush()
