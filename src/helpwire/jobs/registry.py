"""What a worker knows how to run: a handler per kind, and the recurring jobs.

A registry is built when the app or a worker is assembled and handed to the worker; nothing
registers itself at import time, so tests and processes run exactly the kinds they list.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

DEFAULT_MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: the transaction its work commits in, and the job."""

    session: AsyncSession
    job_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int  # 1 on the first run
    now: datetime  # the worker's clock


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class RecurringJob:
    """A job run once per ``every`` across all workers, at the start of each period
    (periods are counted from the Unix epoch, so every worker agrees on them)."""

    kind: str
    every: timedelta
    handler: Handler


@dataclass
class JobRegistry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    recurring: dict[str, RecurringJob] = field(default_factory=dict)

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self.handlers:
            raise ValueError(f"job kind {kind!r} is registered already")
        self.handlers[kind] = handler

    def every(self, kind: str, period: timedelta, handler: Handler) -> None:
        if period <= timedelta(0):
            raise ValueError("a recurring job needs a period above zero")
        self.register(kind, handler)
        self.recurring[kind] = RecurringJob(kind=kind, every=period, handler=handler)

    def load_plugins(self, spec: str | None) -> None:
        """``module:function`` entries, comma-separated; each function is called with this
        registry and registers its own kinds (HELPWIRE_JOB_PLUGINS)."""
        for entry in (part.strip() for part in (spec or "").split(",")):
            if not entry:
                continue
            module_name, _, attribute = entry.partition(":")
            if not attribute:
                raise ValueError(f"job plugin {entry!r} is not module:function")
            register: Callable[[JobRegistry], Any] = getattr(
                importlib.import_module(module_name), attribute
            )
            register(self)
