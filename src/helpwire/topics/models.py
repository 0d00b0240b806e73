"""Tables of the topics domain."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpwire.db.base import Base, JSONType


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # {"en": "Billing", "ru": "Оплата"}: one name per language, "en" always present.
    names: Mapped[dict[str, str]] = mapped_column(JSONType)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    subtopics: Mapped[list[Subtopic]] = relationship(
        back_populates="topic",
        order_by="(Subtopic.position, Subtopic.key)",
        lazy="selectin",
        cascade="all, delete-orphan",
    )


class Subtopic(Base):
    __tablename__ = "subtopics"
    __table_args__ = (UniqueConstraint("topic_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    names: Mapped[dict[str, str]] = mapped_column(JSONType)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    topic: Mapped[Topic] = relationship(back_populates="subtopics")
