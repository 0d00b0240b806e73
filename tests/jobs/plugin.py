"""Job kinds for tests, loaded through HELPWIRE_JOB_PLUGINS=tests.jobs.plugin:register, in
the test process or in a `helpwire worker` the test starts."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from helpwire.jobs.registry import JobContext, JobRegistry

# Set when a "test.signal" job runs in this process.
ran = threading.Event()


async def stall_first_attempt(context: JobContext) -> None:
    """Writes ``started-<attempt>`` in payload["dir"]; the first attempt then never ends
    (the test kills its worker), a later one writes ``done``."""
    folder = Path(context.payload["dir"])
    (folder / f"started-{context.attempt}").write_text(str(context.job_id))
    if context.attempt == 1:
        await asyncio.Event().wait()
    (folder / "done").write_text(str(context.attempt))


async def signal(context: JobContext) -> None:
    ran.set()


def register(registry: JobRegistry) -> None:
    registry.register("test.stall_first_attempt", stall_first_attempt)
    registry.register("test.signal", signal)
