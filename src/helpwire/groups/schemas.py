"""Request and response bodies of the groups API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class GroupCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str = Field(description="1..64 lower-case letters, digits, _ . or -.")
    name: str = Field(min_length=1, max_length=255)
    description: str = Field(default="", max_length=10_000)
    members: list[str] = Field(default=[], max_length=1000, description="Staff usernames.")


class GroupUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    is_active: bool | None = None
    members: list[str] | None = Field(
        default=None, max_length=1000, description="The full list of staff usernames."
    )


class MemberOut(BaseModel):
    username: str
    real_name: str
    available: bool


class GroupOut(BaseModel):
    key: str
    name: str
    description: str
    is_active: bool
    members: list[MemberOut]
    open_tickets: int = Field(description="Tickets of the group not solved or closed.")
