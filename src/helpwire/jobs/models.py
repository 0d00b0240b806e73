"""The jobs table: one row per job waiting, running, failing or dead."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from helpwire.db.base import Base, JSONType, utcnow


class JobState(StrEnum):
    PENDING = "pending"  # waiting for run_at
    RUNNING = "running"  # claimed by a worker until locked_until
    FAILED = "failed"  # failed at least once; tried again at run_at
    DEAD = "dead"  # out of attempts; waits for an admin's retry


# A key is unique among the jobs still waiting, so that enqueuing again moves the timer.
# A job already running keeps its key and does not stop a new one being enqueued.
WAITING = (JobState.PENDING.value, JobState.FAILED.value)
_WAITING_SQL = "key IS NOT NULL AND state IN ('pending', 'failed')"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # The worker's claim query: due work, soonest first.
        Index("ix_jobs_due", "state", "run_at"),
        Index(
            "uq_jobs_waiting_key",
            "key",
            unique=True,
            sqlite_where=text(_WAITING_SQL),
            postgresql_where=text(_WAITING_SQL),
        ),
        Index("ix_jobs_kind_state", "kind", "state", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(16), default=JobState.PENDING.value)
    run_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
