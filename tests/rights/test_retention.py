"""Retention: closed tickets older than the retention period are deleted by the hourly job,
in batches, with their comments, files, timeline and search entries; nothing else is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from helpwire.audit.models import AuditEntry
from helpwire.db.session import Database
from helpwire.files.models import File
from helpwire.housekeeping import job_registry
from helpwire.jobs.worker import Worker
from helpwire.rights.retention import RETENTION_KIND, delete_expired_tickets
from helpwire.search.models import SearchDocument
from helpwire.settings import Settings
from helpwire.tickets.models import Comment, Event, Ticket
from tests.conftest import World


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def closed_ticket(world: World, subject: str) -> int:
    upload = await world.upload("owner", f"{subject}.txt", b"bytes of " + subject.encode())
    number = (await world.create_ticket("owner", subject=subject, files=[upload["id"]]))["number"]
    closed = await world.post("owner", f"/api/v1/tickets/{number}/close", json={})
    assert closed.status_code == 200, closed.text
    return int(number)


async def counts(database: Database) -> dict[str, int]:
    async with database.reader() as session:
        return {
            model.__tablename__: int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
            for model in (Ticket, Comment, Event, File, SearchDocument)
        }


def stored_files(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


async def test_the_job_deletes_closed_tickets_past_the_period_and_nothing_else(
    world: World, database: Database, settings: Settings
) -> None:
    old = [await closed_ticket(world, f"old{i}") for i in range(2)]
    still_open = (await world.create_ticket("owner", subject="open"))["number"]
    before = await counts(database)
    assert stored_files(settings.files_dir) == 2

    keeping = settings.model_copy(update={"retention_days": 30})
    assert RETENTION_KIND in job_registry(keeping).recurring
    assert RETENTION_KIND not in job_registry(settings).recurring  # off unless set

    # 29 days on nothing is old enough; 31 days on both closed tickets are.
    clock = Clock(datetime.now(UTC) + timedelta(days=29))
    worker = Worker(database, job_registry(keeping), clock=clock)
    await worker.schedule_recurring()
    clock.now += timedelta(hours=1)
    await worker.run_once()
    assert await counts(database) == before

    clock.now += timedelta(days=2)
    await worker.schedule_recurring()
    clock.now += timedelta(hours=1)
    await worker.run_once()
    await worker.run_once()  # the bytes, once the deletion committed
    for number in old:
        assert (await world.get("agent", f"/api/v1/tickets/{number}")).status_code == 404
    assert (await world.get("agent", f"/api/v1/tickets/{still_open}")).status_code == 200
    after = await counts(database)
    assert after["tickets"] == before["tickets"] - 2
    assert after["files"] == before["files"] - 2
    assert after["comments"] < before["comments"] and after["events"] < before["events"]
    assert after["search_documents"] < before["search_documents"]
    assert stored_files(settings.files_dir) == 0
    found = await world.get("agent", "/api/v1/tickets", params={"q": "old0"})
    assert found.json()["items"] == []
    async with database.reader() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "retention.tickets_deleted")
        )
    assert entry is not None and entry.after is not None
    assert sorted(entry.after["numbers"]) == sorted(old)


async def test_a_backlog_is_deleted_batch_by_batch(world: World, database: Database) -> None:
    for i in range(3):
        await closed_ticket(world, f"backlog{i}")
    later = datetime.now(UTC) + timedelta(days=10)
    deleted = []
    for _ in range(4):
        async with database.writing() as session:
            deleted.append(await delete_expired_tickets(session, now=later, days=7, batch=2))
    assert deleted == [2, 1, 0, 0]
    assert (await counts(database))["tickets"] == 0
