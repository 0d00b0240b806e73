"""What the relay needs from the metrics it reports to.

A protocol, so the relay does not depend on the HTTP layer that owns the registry: the app's
Metrics satisfies it, and a relay run without metrics passes None.
"""

from __future__ import annotations

from typing import Protocol

from prometheus_client import Counter, Gauge, Histogram


class DeliveryMetrics(Protocol):
    @property
    def deliveries(self) -> Counter: ...

    @property
    def delivery_latency(self) -> Histogram: ...

    @property
    def deliveries_by_state(self) -> Gauge: ...

    @property
    def queue_depth(self) -> Gauge: ...

    @property
    def oldest_pending_age(self) -> Gauge: ...
