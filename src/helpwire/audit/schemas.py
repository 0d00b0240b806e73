"""Response bodies of the audit log API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from helpwire.audit.log import TargetType


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str | None = Field(
        description="The username of who made the change, as it was then; null: the "
        "command line or helpwire itself."
    )
    action: str = Field(description="What was done, e.g. user.updated, token.revoked.")
    target_type: TargetType
    target_key: str = Field(description="Which one: a username, a token id, a group key ...")
    before: dict[str, Any] | None = Field(description="The target before; null when created.")
    after: dict[str, Any] | None = Field(description="The target after; null when deleted.")
    request_id: str | None = Field(description="The X-Request-ID of the request that made it.")


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_cursor: str | None
