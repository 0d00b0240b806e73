"""Tables of the presence domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base


class TicketPresence(Base):
    """One person on one ticket's page, as their last heartbeat said. A row is never
    trusted past its ``seen_at`` plus the presence lifetime: a closed tab simply stops
    beating, and its row expires without anyone deleting it first."""

    __tablename__ = "ticket_presence"
    __table_args__ = (Index("ix_ticket_presence_seen_at", "seen_at"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[str] = mapped_column(String(16))
    seen_at: Mapped[datetime]
