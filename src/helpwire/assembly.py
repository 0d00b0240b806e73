"""Putting the process together: which subscribers hear of recorded events.

Every place that builds a Database (the app, the relay, the CLI, the demo, tests and
benchmarks) goes through :func:`database_for`, so no assembly forgets a subscriber and
silently drops notifications.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from helpwire.db.session import Database
from helpwire.db.subscribers import Subscribers
from helpwire.mail import cc, outbound
from helpwire.mail.config import MailConfig
from helpwire.notify.outbox import enqueue
from helpwire.reports import facts as report_facts
from helpwire.rules import running as rules
from helpwire.sla import service as sla


def subscribers_for(*, mail: MailConfig | None = None) -> Subscribers:
    """The subscribers of a running helpwire: the outbox hears of every event type, the SLA
    clocks of what starts, stops or pauses them; with
    ``mail`` (HELPWIRE_MAIL_SMTP_URL set), the mail to a ticket's people hears of replies
    and status changes."""
    subscribers = Subscribers()
    subscribers.subscribe(enqueue)
    # CC addresses follow a conversation that moves to another ticket (merge, split).
    subscribers.subscribe(cc.carry_over, types=cc.CARRIED_BY)
    subscribers.subscribe(sla.subscriber, types=sla.EVENT_TYPES)
    # After the SLA clocks: a ticket's facts read their state.
    subscribers.subscribe(report_facts.subscriber, types=report_facts.EVENT_TYPES)
    # Triggers hear of everything (last: they see what the others made of the event).
    subscribers.subscribe(rules.subscriber(mail=mail))
    if mail is not None:
        subscribers.subscribe(outbound.subscriber(mail), types=outbound.EVENT_TYPES)
    return subscribers


def database_for(engine: AsyncEngine, *, mail: MailConfig | None = None) -> Database:
    """The Database on ``engine``, with the default subscribers registered."""
    return Database.for_engine(engine, subscribers=subscribers_for(mail=mail))
