"""Tables of the views domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base, JSONType, utcnow


class SavedView(Base):
    """A ticket list saved by its filters (the list's parameters, as given) and sort;
    shared when it has no owner, otherwise its owner's own."""

    __tablename__ = "ticket_views"
    __table_args__ = (Index("ix_ticket_views_owner_id_position", "owner_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filters: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    sort: Mapped[str] = mapped_column(String(32), default="created_at")
    order: Mapped[str] = mapped_column(String(4), default="desc")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def shared(self) -> bool:
        return self.owner_id is None
