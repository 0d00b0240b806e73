"""The table behind Idempotency-Key, and the reads and writes of its records that the API's
Idempotency-Key and the portal's one-time form both use. It lives with the schema, not the
HTTP layer, so that db.models (which services import) does not depend on helpwire.api."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base, JSONType, utcnow


class IdempotencyRecord(Base):
    """The answer given to the first request with a key, replayed to every retry."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    # Method, path and a hash of the body: a retry must match all three.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[Any] = mapped_column(JSONType, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


async def record_for_key(
    session: AsyncSession, *, user_id: int, key: str
) -> IdempotencyRecord | None:
    """The record of ``user_id``'s ``key``, if a request claimed it (api.idempotency.claim_key)."""
    record: IdempotencyRecord | None = await session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key
        )
    )
    return record


async def keep_answer(
    session: AsyncSession, *, record_id: int, status_code: int, response: Any
) -> None:
    """Stores the answer of the request that claimed record ``record_id``, in its
    transaction, for retries with the same key to be given."""
    record = await session.get(IdempotencyRecord, record_id)
    assert record is not None  # claimed in this transaction
    record.status_code = status_code
    record.response = response
    await session.flush()
