"""The jobs API: admins list, read and retry jobs; metrics show the queue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import httpx
from fastapi import FastAPI

from helpwire.jobs.registry import JobContext, JobRegistry
from helpwire.jobs.service import enqueue_job
from helpwire.jobs.worker import Worker
from tests.conftest import World
from tests.relays import FakeClock


async def fails(context: JobContext) -> None:
    raise RuntimeError("the receiver is down")


def failing() -> JobRegistry:
    registry = JobRegistry()
    registry.register("test.fails", fails)
    return registry


async def test_admins_list_filter_and_page_jobs(world: World, clock: FakeClock) -> None:
    async with world.database.writing() as session:
        for n in range(5):
            await enqueue_job(session, kind="test.a", payload={"n": n})
        await enqueue_job(
            session, kind="test.b", payload={}, run_at=clock.now + timedelta(days=1), key="b"
        )
    seen: list[int] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"kind": "test.a", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await world.get("admin", "/api/v1/jobs", params=params)
        assert page.status_code == 200, page.text
        seen += [job["id"] for job in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    pending = (await world.get("admin", "/api/v1/jobs", params={"state": "pending"})).json()
    assert {job["kind"] for job in pending["items"]} == {"test.a", "test.b"}
    one = await world.get("admin", f"/api/v1/jobs/{seen[0]}")
    assert one.status_code == 200
    assert one.json()["payload"] == {"n": 4} and one.json()["state"] == "pending"
    for bad in ({"state": "done"}, {"cursor": "nonsense"}, {"limit": 0}):
        assert (await world.get("admin", "/api/v1/jobs", params=bad)).status_code == 422
    assert (await world.get("admin", "/api/v1/jobs/999999")).status_code == 404
    assert (await world.get("agent", "/api/v1/jobs")).status_code == 403


async def test_an_admin_retries_a_dead_job(
    world: World, make_worker: Callable[..., Worker], clock: FakeClock
) -> None:
    async with world.database.writing() as session:
        await enqueue_job(session, kind="test.fails", payload={}, max_attempts=1)
    worker = make_worker(failing())
    assert await worker.run_once() == 1
    dead = (await world.get("admin", "/api/v1/jobs", params={"state": "dead"})).json()["items"]
    assert [(j["attempts"], j["last_error"]) for j in dead] == [
        (1, "RuntimeError: the receiver is down")
    ]
    retried = await world.post("admin", f"/api/v1/jobs/{dead[0]['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["state"], retried.json()["attempts"]) == ("pending", 0)
    assert await worker.run_once() == 1  # due now: it runs (and fails) again
    again = (await world.get("admin", f"/api/v1/jobs/{dead[0]['id']}")).json()
    assert (again["state"], again["attempts"]) == ("dead", 1)


async def test_a_running_job_cannot_be_retried(world: World, clock: FakeClock) -> None:
    async with world.database.writing() as session:
        await enqueue_job(session, kind="test.slow", payload={})
    job_id = (await world.get("admin", "/api/v1/jobs")).json()["items"][0]["id"]
    claimer = Worker(world.database, JobRegistry(handlers={"test.slow": fails}), clock=clock)
    assert [c.id for c in await claimer._claim()] == [job_id]  # claimed, never finished
    answer = await world.post("admin", f"/api/v1/jobs/{job_id}/retry")
    assert answer.status_code == 409, answer.text


async def test_metrics_show_jobs_by_state_and_the_oldest_due_age(
    world: World,
    app: FastAPI,
    client: httpx.AsyncClient,
    make_worker: Callable[..., Worker],
    clock: FakeClock,
) -> None:
    async with world.database.writing() as session:
        await enqueue_job(session, kind="test.fails", payload={}, max_attempts=1)
        await enqueue_job(session, kind="test.waits", payload={}, run_at=clock.now)
    worker = make_worker(failing(), metrics=app.state.metrics)
    await worker.run_once()
    clock.advance(timedelta(seconds=90))
    await worker.refresh_gauges(force=True)
    text = (await client.get("/metrics")).text
    assert 'helpwire_jobs{state="dead"} 1.0' in text
    assert 'helpwire_jobs{state="pending"} 1.0' in text
    assert "helpwire_jobs_oldest_due_age_seconds 90.0" in text
