"""Request and response bodies of the calendars and SLA policies API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from helpwire.types import Int32

Windows = dict[str, list[list[str]]]
WINDOWS_HELP = (
    'Working hours by weekday (mon..sun), each day a list of ["HH:MM", "HH:MM"] in the '
    'calendar\'s time zone; "24:00" ends a day at midnight. A day left out is closed.'
)


class CalendarCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="1..64 lower-case letters, digits, _ . or -.")
    name: str = Field(min_length=1, max_length=255)
    time_zone: str = Field(default="UTC", max_length=64, description="An IANA zone name.")
    windows: Windows = Field(description=WINDOWS_HELP)
    holiday_country: str | None = Field(
        default=None, max_length=8, description="ISO 3166 country whose public holidays close."
    )
    holiday_subdivision: str | None = Field(default=None, max_length=16)
    custom_holidays: list[str] = Field(
        default=[], max_length=1000, description="More closed days, YYYY-MM-DD."
    )


class CalendarUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    time_zone: str | None = Field(default=None, max_length=64)
    windows: Windows | None = Field(default=None, description=WINDOWS_HELP)
    holiday_country: str | None = Field(default=None, max_length=8)
    holiday_subdivision: str | None = Field(default=None, max_length=16)
    custom_holidays: list[str] | None = Field(default=None, max_length=1000)


class CalendarOut(BaseModel):
    key: str
    name: str
    time_zone: str
    windows: Windows | None = Field(description="null: always open (the built-in 24-7).")
    holiday_country: str | None
    holiday_subdivision: str | None
    custom_holidays: list[str]
    created_at: datetime
    updated_at: datetime


class TargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minutes: int = Field(ge=1, le=2_628_000, description="Working minutes on the calendar.")
    calendar: str = Field(default="24-7", description="A calendar's key.")


class Targets(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first_reply: TargetIn | None = None
    next_reply: TargetIn | None = Field(
        default=None, description="After each customer message that waits for an answer."
    )
    resolution: TargetIn | None = None


class Conditions(BaseModel):
    """Each list given must hold the ticket's value (tags: any one of them); a list left
    out or empty matches every ticket."""

    model_config = ConfigDict(extra="forbid")
    priorities: list[str] = Field(default=[], max_length=10)
    types: list[str] = Field(default=[], max_length=10)
    topics: list[str] = Field(default=[], max_length=100)
    accounts: list[str] = Field(default=[], max_length=1000)
    groups: list[str] = Field(default=[], max_length=100)
    tags: list[str] = Field(default=[], max_length=100)


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    position: Int32 = Field(default=0, description="Lower first; the first match applies.")
    is_active: bool = True
    conditions: Conditions = Conditions()
    targets: Targets
    pause_statuses: list[str] = Field(
        default=["pending", "hold"], description="Statuses that stop the clocks (solved always)."
    )
    warning_minutes: int = Field(
        default=0, ge=0, le=525_600, description="sla.warning this long before a due time; 0: none."
    )


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    position: Int32 | None = None
    is_active: bool | None = None
    conditions: Conditions | None = None
    targets: Targets | None = None
    pause_statuses: list[str] | None = None
    warning_minutes: int | None = Field(default=None, ge=0, le=525_600)


class TargetOut(BaseModel):
    minutes: int
    calendar: str


class PolicyOut(BaseModel):
    id: int
    name: str
    position: int
    is_active: bool
    conditions: dict[str, list[str]]
    targets: dict[str, TargetOut]
    pause_statuses: list[str]
    warning_minutes: int
    created_at: datetime
    updated_at: datetime
