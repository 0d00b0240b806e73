"""Request and response bodies of the presence API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from helpwire.presence.service import PresenceState


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: PresenceState = Field(
        description="What the caller is doing on the ticket's page: viewing or replying."
    )


class PresentOut(BaseModel):
    username: str
    real_name: str
    state: PresenceState
    seen_at: datetime = Field(description="The last heartbeat (RFC 3339, UTC).")


class CommentSeenOut(BaseModel):
    id: int
    username: str
    internal: bool
    created_at: datetime


class PresenceOut(BaseModel):
    ticket: int
    present: list[PresentOut] = Field(
        description="The others on the ticket's page now (the caller is never listed)."
    )
    newest_comment: CommentSeenOut | None = Field(
        description="The ticket's newest comment or note: a client compares it with the "
        "newest it has shown to warn of a reply written meanwhile."
    )
    expires_after_seconds: int = Field(
        description="How long a heartbeat counts: beat more often than this to stay listed."
    )
