"""Tables of the mail domain: a ticket's CC addresses, every message sent or received, and
the admins' own versions of the message templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base, JSONType, utcnow

# RFC 5321's longest path: 256 octets, less the angle brackets.
ADDRESS_CHARS = 254


class TicketCc(Base):
    """An address that hears of a ticket's public conversation besides its requester."""

    __tablename__ = "ticket_cc"
    __table_args__ = (UniqueConstraint("ticket_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    # Lower-case, as compared: two spellings of one address are one CC.
    address: Mapped[str] = mapped_column(String(ADDRESS_CHARS))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailMessage(Base):
    """One message sent for a ticket (direction ``out``) or received (``in``). Outbound rows
    are the ticket's thread: each new message answers the last one and names the earlier
    ones, so that mail programs keep the conversation together; inbound mail is matched
    to a ticket by these Message-IDs."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        UniqueConstraint("direction", "message_id"),
        Index("ix_mail_messages_ticket", "ticket_id", "id"),
        Index("ix_mail_messages_direction_state", "direction", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # out | in
    # Without the angle brackets.
    message_id: Mapped[str] = mapped_column(String(512))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    # The delivery that carries an outbound message (its attempts are the send log).
    delivery_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("deliveries.id", ondelete="SET NULL"),
    )
    kind: Mapped[str] = mapped_column(String(32))  # reply | solved | status | ...
    sender: Mapped[str] = mapped_column(String(ADDRESS_CHARS))
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    cc: Mapped[list[str]] = mapped_column(JSONType, default=list)
    subject: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str | None] = mapped_column(String(16))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Inbound only: processing (stored, and taken by a process at processed_at) |
    # processed | ignored (noise, recorded and never answered) | quarantined (an admin
    # looks, downloads, retries) | refused (an unknown sender where those are refused);
    # with the reason in words.
    state: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int | None] = mapped_column(BigInteger)
    processed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MailRaw(Base):
    """The bytes of a received message as they came, stored before anything is made of
    them: the original a comment came from, and what a quarantined message is retried
    from."""

    __tablename__ = "mail_raw"

    message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("mail_messages.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MailTemplate(Base):
    """An admin's version of one message kind in one language; where there is none, the
    version shipped with helpwire is used."""

    __tablename__ = "mail_templates"
    __table_args__ = (UniqueConstraint("kind", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
