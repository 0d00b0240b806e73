"""Deleting stored bytes after the transaction that let go of them commits.

Storage outside the database cannot take part in a transaction: deleted before COMMIT, the
bytes would be gone from a change that then rolled back; deleted after it, a crash in
between would keep them forever. So the transaction that deletes file rows enqueues a job
naming their storage keys; the job exists exactly when the rows are gone, and deleting a
key that is already gone is harmless, so a job that is retried after a crash finishes the
work instead of half-doing it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.files.dbstorage import forget_blobs
from helpwire.files.storage import LocalStorage
from helpwire.jobs.registry import Handler, JobContext
from helpwire.jobs.service import enqueue_job
from helpwire.settings import Settings

DELETE_BYTES_KIND = "files.delete_bytes"
# Keys per job: a job's payload and its run stay small however many files go at once.
KEYS_PER_JOB = 200


async def delete_bytes_later(session: AsyncSession, *, keys: Sequence[str]) -> None:
    """Have the worker delete the bytes under ``keys`` once this transaction commits."""
    unique = sorted(set(keys))
    for start in range(0, len(unique), KEYS_PER_JOB):
        await enqueue_job(
            session,
            kind=DELETE_BYTES_KIND,
            payload={"keys": unique[start : start + KEYS_PER_JOB]},
        )


def bytes_deleter(settings: Settings) -> Handler:
    """The job's handler for this installation's storage."""

    async def delete_bytes(context: JobContext) -> None:
        keys = [str(key) for key in context.payload.get("keys", [])]
        if settings.files_storage == "database":
            # In the job's own transaction: gone exactly when the job is done.
            await forget_blobs(context.session, keys)
            return
        local = LocalStorage(settings.files_dir)
        for key in keys:
            await local.delete(key)

    return delete_bytes
