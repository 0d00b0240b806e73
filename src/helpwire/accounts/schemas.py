"""Request and response bodies of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from helpwire.accounts.models import Role
from helpwire.accounts.preferences import MAX_TIME_ZONE_CHARS, check_language, check_time_zone

# The lengths of the columns they are stored in.
AccountKey = Annotated[str, StringConstraints(max_length=64)]
ProjectKey = Annotated[str, StringConstraints(max_length=128)]
Username = Annotated[str, StringConstraints(max_length=150)]
Email = Annotated[str, StringConstraints(max_length=320)]
Name = Annotated[str, StringConstraints(max_length=255)]
Label = Annotated[str, StringConstraints(max_length=255)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectIn(Strict):
    key: ProjectKey
    name: Name | None = None


class ProjectOut(BaseModel):
    key: str
    name: str
    account: str


class AccountCreate(Strict):
    key: AccountKey = Field(description="Short stable identifier, e.g. acme.")
    name: Name | None = None
    projects: list[ProjectKey] = []


class AccountOut(BaseModel):
    key: str
    name: str
    projects: list[ProjectOut]
    created_at: datetime


# A language tag (RFC 5646's common shapes: "de", "de-at") of a language helpwire ships;
# pages and mail are written in its first part.
Language = Annotated[
    str,
    StringConstraints(max_length=16, pattern=r"^([A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*)?$"),
    AfterValidator(check_language),
    Field(
        description='The language of pages and mail for this person: "en" or "de" (a '
        'regional tag such as "de-AT" too); "" for the default (pages follow the browser).'
    ),
]
TimeZone = Annotated[
    str,
    StringConstraints(max_length=MAX_TIME_ZONE_CHARS),
    AfterValidator(check_time_zone),
    Field(
        description="The IANA time zone pages show this person's times in, such as "
        '"Europe/Berlin"; "" for UTC. The API itself always answers in UTC.'
    ),
]


class UserCreate(Strict):
    username: Username
    email: Email | None = None
    real_name: Name = ""
    role: Role
    account: AccountKey | None = Field(
        default=None, description="Account key; customers and services."
    )
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    account_wide: bool = True
    projects: list[ProjectKey] = []
    language: Language = ""
    time_zone: TimeZone = ""


class UserUpdate(Strict):
    email: Email | None = None
    real_name: Name | None = None
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    is_active: bool | None = None
    account_wide: bool | None = None
    projects: list[ProjectKey] | None = None
    language: Language | None = None
    time_zone: TimeZone | None = None
    available: bool | None = Field(
        default=None, description="Staff: whether they take new work now (auto-assignment)."
    )


class PreferencesUpdate(Strict):
    """What every user may change of their own: the language and time zone of pages."""

    language: Language | None = None
    time_zone: TimeZone | None = None


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
    language: str | None
    time_zone: str | None = Field(description="IANA time zone of the pages; null: UTC.")
    available: bool
    created_at: datetime
    erased_at: datetime | None = None


class TokenCreate(Strict):
    username: Username
    label: Label = ""


class TokenOut(BaseModel):
    id: int
    username: str
    label: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str = Field(description="The token itself. Shown this once; only its hash is kept.")
