"""The jobs API (admins only): what is waiting, running, failing or dead, and a retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from helpwire.api.deps import AdminPrincipal, Session
from helpwire.api.pagination import cursor_id, encode_cursor
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.api.types import MAX_INT64, BigRowId
from helpwire.jobs import service
from helpwire.jobs.models import Job, JobState

router = APIRouter(prefix="/api/v1", tags=["jobs"], responses=PROBLEM_RESPONSES)


class JobOut(BaseModel):
    id: int
    kind: str
    key: str | None = Field(description="unique among waiting jobs; set by whoever enqueued it")
    state: JobState
    run_at: datetime = Field(description="when it is due (next try, for a failed job)")
    attempts: int
    max_attempts: int
    locked_by: str | None = Field(description="the worker running it")
    locked_until: datetime | None = Field(description="when its lease ends")
    last_error: str | None
    created_at: datetime
    updated_at: datetime


class JobDetail(JobOut):
    payload: dict[str, Any]


class JobPage(BaseModel):
    items: list[JobOut]
    next_cursor: str | None


def job_out(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        key=job.key,
        state=JobState(job.state),
        run_at=job.run_at,
        attempts=job.attempts,
        max_attempts=job.max_attempts,
        locked_by=job.locked_by,
        locked_until=job.locked_until,
        last_error=job.last_error,
        created_at=job.created_at,
        updated_at=job.updated_at,
    )


@router.get("/jobs", response_model=JobPage, summary="Jobs, newest first (admin)")
async def list_jobs(
    session: Session,
    _admin: AdminPrincipal,
    state: JobState | None = None,
    kind: Annotated[str | None, Query(min_length=1, max_length=service.MAX_KIND)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> JobPage:
    before_id = None if cursor is None else cursor_id(cursor, key="before", maximum=MAX_INT64)
    rows, more = await service.list_jobs(
        session, state=state, kind=kind, before_id=before_id, limit=limit
    )
    return JobPage(
        items=[job_out(job) for job in rows],
        next_cursor=encode_cursor({"before": rows[-1].id}) if more and rows else None,
    )


@router.get("/jobs/{job_id}", response_model=JobDetail, summary="A job and its payload (admin)")
async def get_job(job_id: BigRowId, session: Session, _admin: AdminPrincipal) -> JobDetail:
    job = await service.get_job(session, job_id=job_id)
    return JobDetail(**job_out(job).model_dump(), payload=job.payload)


@router.post(
    "/jobs/{job_id}/retry",
    response_model=JobOut,
    summary="Run a failed or dead job again now, attempts counted afresh (admin)",
)
async def retry_job(job_id: BigRowId, session: Session, _admin: AdminPrincipal) -> JobOut:
    return job_out(await service.retry_job(session, job_id=job_id))
