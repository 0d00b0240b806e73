"""Tables of the notify domain: channels, their deliveries, and every attempt."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from helpwire.db.base import Base, JSONType, utcnow
from helpwire.db.secrets import EncryptedFieldsJSON, EncryptedText
from helpwire.tickets.models import Event


class ChannelKind(enum.StrEnum):
    SLACK = "slack"
    MATTERMOST = "mattermost"
    DISCORD = "discord"
    TEAMS = "teams"
    WEBHOOK = "webhook"
    EMAIL = "email"
    # Mail to a ticket's requester and CCs (helpwire.mail): one channel, made from
    # HELPWIRE_MAIL_SMTP_URL and managed by helpwire itself, never created over the API.
    CUSTOMER_MAIL = "customer_mail"


CHAT_KINDS = frozenset(
    {ChannelKind.SLACK, ChannelKind.MATTERMOST, ChannelKind.DISCORD, ChannelKind.TEAMS}
)


class Audience(enum.StrEnum):
    STAFF = "staff"
    CUSTOMERS = "customers"


class DeliveryState(enum.StrEnum):
    PENDING = "pending"  # waiting for its first attempt
    FAILED = "failed"  # the last attempt failed; another is scheduled
    DELIVERED = "delivered"
    DEAD = "dead"  # out of attempts, or its channel is gone; an admin may redeliver


DUE_STATES = (DeliveryState.PENDING.value, DeliveryState.FAILED.value)


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Encrypted at rest (db/secrets.py): the URLs of Slack, Discord, Teams and Mattermost
    # webhooks carry their credential in the path.
    url: Mapped[str | None] = mapped_column(EncryptedText)
    # Webhook signing secrets (whsec_...), encrypted at rest. After a rotation the previous
    # one keeps signing alongside the new one until previous_secret_expires_at.
    secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret_expires_at: Mapped[datetime | None]
    # {"host", "port", "tls": "none|starttls|tls", "username", "password", "from", "to": [...]}
    # The password is encrypted at rest, like the secrets above.
    email: Mapped[dict[str, Any] | None] = mapped_column(EncryptedFieldsJSON("password"))
    events: Mapped[list[str]] = mapped_column(JSONType)
    # {"topics": [...], "priorities": [...], "accounts": [...]}; an empty list means any.
    filters: Mapped[dict[str, list[str]]] = mapped_column(JSONType, default=dict)
    include_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    audience: Mapped[str] = mapped_column(String(16), default=Audience.STAFF)
    max_concurrency: Mapped[int] = mapped_column(Integer, default=1)
    rate_per_second: Mapped[float] = mapped_column(Float, default=1.0)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # "api", or "settings" for channels declared in HELPWIRE_CHANNELS (read-only over the API).
    managed_by: Mapped[str] = mapped_column(String(16), default="api")
    last_success_at: Mapped[datetime | None]
    last_failure_at: Mapped[datetime | None]
    last_failure_reason: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One event on its way to one channel. Written in the transaction of the event."""

    __tablename__ = "deliveries"
    __table_args__ = (
        # The relay's claim query: due work, oldest first.
        Index("ix_deliveries_due", "state", "next_attempt_at"),
        Index("ix_deliveries_channel_state", "channel_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # The webhook-id: the same on every attempt, so that receivers can drop duplicates.
    message_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(64))
    ticket_number: Mapped[int | None] = mapped_column(BigInteger)
    # The versioned document sent ({"type", "timestamp", "data"}), fixed when the event
    # happened, so that every retry sends the same thing.
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # Position in the retry schedule; a redelivery starts it again.
    schedule_step: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    dead_at: Mapped[datetime | None]

    channel: Mapped[Channel] = relationship(lazy="joined")
    event: Mapped[Event | None] = relationship(lazy="raise")


class DeliveryAttempt(Base):
    __tablename__ = "delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_delivery_id", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"))
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_ms: Mapped[float] = mapped_column(Float)
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_snippet: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))  # delivered | retry | dead | disabled
    relay: Mapped[str | None] = mapped_column(String(64))
