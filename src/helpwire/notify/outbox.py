"""Writing deliveries for an event, in the event's own transaction.

A subscriber (db/subscribers.py), registered by helpwire.assembly for every event type:
tickets.events.record hands it each event. Each enabled channel that wants the event
gets one Delivery row holding the payload; the relay sends it after commit. A transaction
that rolls back takes its deliveries with it, so nothing is sent for it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.listen import wake_after_commit
from helpwire.db.subscribers import Subscribers
from helpwire.notify.models import Audience, Channel, Delivery, DeliveryState
from helpwire.notify.payloads import event_payload
from helpwire.notify.signal import OUTBOX_SIGNAL, PG_CHANNEL
from helpwire.tickets.followers import follower_usernames
from helpwire.tickets.models import Comment, Event, Ticket

_CHANNELS_KEY = "helpwire.outbox.channels"
_CHANNELS = Channel.__table__


def new_message_id() -> str:
    return "msg_" + uuid.uuid4().hex


@dataclass(frozen=True)
class ChannelTarget:
    """What deciding and queueing a delivery needs of a channel: its routing columns,
    not its credentials (decrypting those on every write would be wasted work)."""

    id: int
    audience: str
    events: list[str]
    filters: dict[str, list[str]] | None
    include_internal: bool


# Core columns, not ORM objects: this runs on every write (one cheap statement, which
# returns no rows when no channel is set up).
_ENABLED_CHANNELS = select(
    _CHANNELS.c.id,
    _CHANNELS.c.audience,
    _CHANNELS.c.events,
    _CHANNELS.c.filters,
    _CHANNELS.c.include_internal,
).where(_CHANNELS.c.enabled.is_(True))


async def _enabled_channels(session: AsyncSession) -> list[ChannelTarget]:
    """Read once per transaction (a request may record several events), inside it and
    never from a cache across transactions: a channel committed by any process before
    this transaction's read gets the events this transaction records, which a cache shared
    between transactions could not promise for channels made in other processes."""
    state = Subscribers.transaction_state(session)
    cached: list[ChannelTarget] | None = state.get(_CHANNELS_KEY)
    if cached is None:
        rows = await session.execute(_ENABLED_CHANNELS)
        cached = [ChannelTarget(*row) for row in rows]
        state[_CHANNELS_KEY] = cached
    return cached


# Events about the work itself, not the conversation: kept from customers (internal in
# the timeline) but sent to every staff channel that lists them, include_internal or not
# (that setting is about internal notes).
STAFF_EVENTS = frozenset({"sla.warning", "sla.breached"})


def channel_wants(
    channel: ChannelTarget, *, event: Event, ticket: Ticket, followers: set[str] | None = None
) -> bool:
    """Whether the channel is to hear of ``event``. ``followers`` are the usernames that
    follow the ticket, needed only by a channel whose filters name followers (a personal
    channel); None where none does."""
    if event.type not in channel.events:
        return False
    if event.type in STAFF_EVENTS:
        if channel.audience != Audience.STAFF:
            return False
    elif event.internal and not channel.include_internal:
        return False
    filters = channel.filters or {}
    topics = filters.get("topics") or []
    if topics and (ticket.topic is None or ticket.topic.key not in topics):
        return False
    priorities = filters.get("priorities") or []
    if priorities and ticket.priority not in priorities:
        return False
    accounts = filters.get("accounts") or []
    if accounts and (ticket.account is None or ticket.account.key not in accounts):
        return False
    wanted = filters.get("followers") or []
    return not wanted or (followers is not None and not followers.isdisjoint(wanted))


async def _comment_of(session: AsyncSession, event: Event) -> Comment | None:
    comment_id = (event.data or {}).get("comment_id")
    if not isinstance(comment_id, int):
        return None
    return await session.get(Comment, comment_id)  # from the identity map, as a rule


async def enqueue(session: AsyncSession, *, event: Event, ticket: Ticket) -> int:
    """Queue the event for every channel that wants it; how many deliveries were queued."""
    enabled = await _enabled_channels(session)
    followers = None
    if any((c.filters or {}).get("followers") for c in enabled):
        followers = await follower_usernames(session, ticket_id=ticket.id)
    channels = [
        c for c in enabled if channel_wants(c, event=event, ticket=ticket, followers=followers)
    ]
    return await _queue(session, channels, event=event, ticket=ticket)


async def enqueue_to_channel(
    session: AsyncSession, *, channel_id: int, event: Event, ticket: Ticket
) -> int:
    """Queue the event for one channel, whatever its event filters say (a rule's "send to
    this channel"); its audience still decides what the payload shows, and a channel for
    customers never gets what is internal."""
    channels = [c for c in await _enabled_channels(session) if c.id == channel_id]
    if event.internal:
        channels = [c for c in channels if c.audience == Audience.STAFF]
    return await _queue(session, channels, event=event, ticket=ticket)


async def _queue(
    session: AsyncSession, channels: list[ChannelTarget], *, event: Event, ticket: Ticket
) -> int:
    if not channels:
        return 0
    comment = await _comment_of(session, event)
    payloads: dict[Audience, dict[str, Any]] = {}
    for channel in channels:
        audience = Audience(channel.audience)
        if audience not in payloads:
            payloads[audience] = event_payload(
                event=event, ticket=ticket, comment=comment, audience=audience
            )
        delivery = Delivery(
            message_id=new_message_id(),
            channel_id=channel.id,
            event_type=event.type,
            ticket_number=ticket.number,
            payload=payloads[audience],
            state=DeliveryState.PENDING.value,
            attempt_count=0,
            schedule_step=0,
            next_attempt_at=event.created_at,
            created_at=event.created_at,
        )
        delivery.event = event
        session.add(delivery)
    await announce(session)
    return len(channels)


async def announce(session: AsyncSession) -> None:
    """Make sure relays hear of this transaction's deliveries once it commits."""
    await wake_after_commit(session, signal_name=OUTBOX_SIGNAL, channel=PG_CHANNEL)
