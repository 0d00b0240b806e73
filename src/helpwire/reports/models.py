"""Tables of the reports domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, SmallInteger
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base


class TicketFact(Base):
    """What reports need of a ticket, in columns they can index: its times, its people and
    places, its service level and its rating. Written in the transaction of each change
    (reports.facts), so a report reads one narrow row per ticket, never the timeline."""

    __tablename__ = "ticket_facts"
    __table_args__ = (
        Index("ix_ticket_facts_created", "created_at"),
        Index("ix_ticket_facts_solved", "solved_at"),
        Index("ix_ticket_facts_rated", "rated_at"),
        Index("ix_ticket_facts_assignee_created", "assignee_id", "created_at"),
        Index("ix_ticket_facts_group_created", "group_id", "created_at"),
        Index("ix_ticket_facts_topic_created", "topic_id", "created_at"),
        Index("ix_ticket_facts_account_created", "account_id", "created_at"),
    )

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime]
    # The last time it was solved (None while it is not).
    solved_at: Mapped[datetime | None]
    first_reply_at: Mapped[datetime | None]
    # Working seconds on the SLA target's calendar, pauses left out; wall-clock seconds for
    # a ticket no policy applies to.
    first_reply_seconds: Mapped[float | None] = mapped_column(Float)
    resolution_seconds: Mapped[float | None] = mapped_column(Float)
    assignee_id: Mapped[int | None] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(Integer)
    topic_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    rating_score: Mapped[int | None] = mapped_column(SmallInteger)
    rated_at: Mapped[datetime | None]
    # Per SLA target: True (met), False (breached), None (none, or not decided yet).
    sla_first_reply_met: Mapped[bool | None] = mapped_column(Boolean)
    sla_next_reply_met: Mapped[bool | None] = mapped_column(Boolean)
    sla_resolution_met: Mapped[bool | None] = mapped_column(Boolean)
