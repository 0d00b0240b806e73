"""Tables of the SLA domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base, JSONType, utcnow

# The calendar that is always open; made by the migration, not changeable.
ALWAYS_OPEN = "24-7"


class Calendar(Base):
    """When the clock runs: weekly windows in a time zone, minus holidays."""

    __tablename__ = "calendars"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    # {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}; a day left out is closed.
    # None: always open (the built-in 24/7 calendar).
    windows: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSONType)
    # Public holidays of a country (and a subdivision of it), from the holidays package.
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    # ["2026-12-24", ...]: closed days of the organisation's own.
    custom_holidays: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SlaPolicy(Base):
    """Targets for the tickets its conditions match; the first active match by position
    applies."""

    __tablename__ = "sla_policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # {"priorities": [...], "types": [...], "topic_ids": [...], "account_ids": [...],
    #  "group_ids": [...], "tags": [...]}: each given list must contain the ticket's value
    # (tags: any of them); an empty or absent list matches every ticket.
    conditions: Mapped[dict[str, list[Any]]] = mapped_column(JSONType, default=dict)
    # {"first_reply": {"minutes": 60, "calendar_id": 1}, "next_reply": ..., "resolution": ...}
    targets: Mapped[dict[str, dict[str, int]]] = mapped_column(JSONType, default=dict)
    pause_statuses: Mapped[list[str]] = mapped_column(JSONType, default=list)
    warning_minutes: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketSla(Base):
    """A ticket's clocks under its policy (sla.clocks); what the answer shows is written to
    the ticket's own sla columns alongside."""

    __tablename__ = "ticket_slas"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    policy_id: Mapped[int | None] = mapped_column(
        ForeignKey("sla_policies.id", ondelete="SET NULL"), index=True
    )
    clocks: Mapped[dict[str, dict[str, Any]]] = mapped_column(JSONType, default=dict)
    breaches: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
