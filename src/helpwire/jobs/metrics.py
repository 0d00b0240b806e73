"""What the worker needs from the metrics it reports to.

A protocol, so the worker does not depend on the HTTP layer that owns the registry: the app's
Metrics satisfies it, and a worker run without metrics passes None.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import Gauge


class JobMetrics(Protocol):
    @property
    def jobs_by_state(self) -> Gauge: ...

    @property
    def jobs_oldest_due_age(self) -> Gauge: ...
