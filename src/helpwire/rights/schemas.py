"""Response bodies of the data rights API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class ErasureOut(BaseModel):
    username: str = Field(description="The anonymous username the user has now (erased-<id>).")
    erased_at: datetime
    tickets: int = Field(description="Tickets whose timeline records the erasure.")
    files_deleted: int = Field(description="Files they uploaded, deleted with their bytes.")
    tokens_revoked: int = Field(description="API tokens that were live and are revoked.")
