"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from helpwire.accounts.models import Role


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(Strict):
    key: str
    name: str | None = None


class ProjectOut(BaseModel):
    key: str
    name: str
    account: str


class AccountCreate(Strict):
    key: str = Field(description="Short stable identifier, e.g. acme.")
    name: str | None = None
    projects: list[str] = []


class AccountOut(BaseModel):
    key: str
    name: str
    projects: list[ProjectOut]
    created_at: datetime


class UserCreate(Strict):
    username: str
    email: str | None = None
    real_name: str = ""
    role: Role
    account: str | None = Field(default=None, description="Account key; customers and services.")
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    account_wide: bool = True
    projects: list[str] = []


class UserUpdate(Strict):
    email: str | None = None
    real_name: str | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    is_active: bool | None = None
    account_wide: bool | None = None
    projects: list[str] | None = None


class UserOut(BaseModel):
    username: str
    email: str | None
    real_name: str
    role: Role
    account: str | None
    account_wide: bool
    projects: list[str]
    is_active: bool
    has_password: bool
    created_at: datetime


class TokenCreate(Strict):
    username: str
    label: str = ""


class TokenOut(BaseModel):
    id: int
    username: str
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself. Shown this once; only its hash is kept.")
