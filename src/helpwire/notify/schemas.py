"""Request and response bodies of the channels and deliveries API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from helpwire.notify.models import Audience, ChannelKind, DeliveryState

# Explicit limits on every string (the column's length where there is a column).
Address = Annotated[str, StringConstraints(max_length=320)]
Key = Annotated[str, StringConstraints(max_length=64)]
Username = Annotated[str, StringConstraints(max_length=150)]
EventName = Annotated[str, StringConstraints(max_length=64)]
Secret = Annotated[str, StringConstraints(max_length=255)]
MAX_LIST = 100


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailConfig(Strict):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=587, ge=1, le=65535)
    tls: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = Field(default=None, max_length=255)
    password: str | None = Field(default=None, max_length=1024)
    from_: str = Field(alias="from", min_length=3, max_length=320)
    to: list[Address] = Field(min_length=1, max_length=50)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ChannelFilters(Strict):
    topics: list[Key] = Field(default=[], max_length=MAX_LIST)
    priorities: list[Key] = Field(default=[], max_length=MAX_LIST)
    accounts: list[Key] = Field(default=[], max_length=MAX_LIST)
    followers: list[Username] = Field(
        default=[],
        max_length=MAX_LIST,
        description="Staff usernames: only tickets one of them follows (a personal channel).",
    )


class ChannelCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    kind: ChannelKind
    url: str | None = Field(default=None, max_length=2048)
    secret: Secret | None = Field(default=None, description="webhook only; generated when absent")
    email: EmailConfig | None = None
    events: list[EventName] | None = Field(
        default=None, max_length=MAX_LIST, description="default: every event type"
    )
    filters: ChannelFilters = ChannelFilters()
    include_internal: bool = False
    audience: Audience = Audience.STAFF
    max_concurrency: int | None = Field(default=None, ge=1, le=64)
    rate_per_second: float | None = Field(default=None, gt=0, le=1000)
    enabled: bool = True


class ChannelUpdate(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    url: str | None = Field(default=None, max_length=2048)
    secret: Secret | None = Field(
        default=None, description="a new secret; the old one stays valid for 24 hours"
    )
    rotate_secret: bool = Field(
        default=False, description="generate a new secret; the old one stays valid for 24 hours"
    )
    email: EmailConfig | None = None
    events: list[EventName] | None = Field(default=None, max_length=MAX_LIST)
    filters: ChannelFilters | None = None
    include_internal: bool | None = None
    audience: Audience | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=64)
    rate_per_second: float | None = Field(default=None, gt=0, le=1000)
    enabled: bool | None = None


class ChannelHealth(BaseModel):
    enabled: bool
    disabled_reason: str | None
    last_success_at: datetime | None
    last_failure_at: datetime | None
    last_failure_reason: str | None
    consecutive_failures: int


class ChannelOut(BaseModel):
    id: int
    name: str
    kind: ChannelKind
    url: str | None
    email: dict[str, Any] | None = Field(description="the SMTP settings, password left out")
    events: list[str]
    filters: ChannelFilters
    include_internal: bool
    audience: Audience
    max_concurrency: int
    rate_per_second: float
    managed_by: str
    has_secret: bool
    secret_rotating_until: datetime | None
    health: ChannelHealth
    created_at: datetime
    updated_at: datetime


class ChannelWithSecret(ChannelOut):
    secret: str | None = Field(
        description="the signing secret; shown only when it is created or rotated"
    )


class TestResult(BaseModel):
    ok: bool
    status_code: int | None
    response: str | None
    error: str | None
    duration_ms: float


class AttemptOut(BaseModel):
    attempted_at: datetime
    duration_ms: float
    status_code: int | None
    response: str | None
    error: str | None
    outcome: str
    relay: str | None


class DeliveryOut(BaseModel):
    id: int
    message_id: str = Field(description="sent as webhook-id; the same on every attempt")
    channel_id: int
    event_type: str
    ticket_number: int | None
    state: DeliveryState
    attempt_count: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempts: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
