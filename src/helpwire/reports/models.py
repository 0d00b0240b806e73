"""Tables of the reports domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String
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


class ReportDay(Base):
    """How many tickets a day counts for a measure, in a place (everything, or one agent,
    group or topic), per bucket: counts for created and solved, ratings by score, SLA
    targets met (1) or breached (0), and reply and resolution times by a bucket 5 % wide
    (reports.aggregates). Kept in step with ticket_facts by the same subscriber;
    a report over years reads a few rows a day instead of a row per ticket."""

    __tablename__ = "report_days"
    __table_args__ = (
        # A report for one place (or everything): one index range.
        Index("ix_report_days_place", "metric", "dim", "dim_id", "day", "bucket", unique=True),
        # A report with a row per agent (group, ...): the measure's days for every one.
        Index("ix_report_days_breakdown", "metric", "dim", "day", "dim_id", "bucket"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(24))
    dim: Mapped[str] = mapped_column(String(8))  # "all", "agent", "group" or "topic"
    dim_id: Mapped[int] = mapped_column(Integer)  # 0 for "all"
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, UTC
    bucket: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class ReportMonth(Base):
    """The same counts as report_days, by calendar month ("YYYY-MM"): a report over many
    months reads whole months here and only the days at its ends from report_days (a row
    per agent over three years is then some 36 rows an agent and bucket, not 1,100)."""

    __tablename__ = "report_months"
    __table_args__ = (
        Index("ix_report_months_place", "metric", "dim", "dim_id", "month", "bucket", unique=True),
        Index("ix_report_months_breakdown", "metric", "dim", "month", "dim_id", "bucket"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(24))
    dim: Mapped[str] = mapped_column(String(8))
    dim_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, UTC
    bucket: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class ReportDelta(Base):
    """A change to the counts, appended by the change's own transaction and folded into
    report_days and report_months by a job every minute: a write path that only inserts,
    so creates never queue behind each other on a day's counter rows. Reports add the
    deltas not folded yet, so they are never behind."""

    __tablename__ = "report_deltas"

    id: Mapped[int] = mapped_column(primary_key=True)
    metric: Mapped[str] = mapped_column(String(24))
    dim: Mapped[str] = mapped_column(String(8))
    dim_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[str] = mapped_column(String(10))
    bucket: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
