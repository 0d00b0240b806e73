"""Prometheus metrics. Each app has its own registry, so several can live in one process."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    tickets_created: Counter

    @classmethod
    def create(cls) -> Metrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            requests=Counter(
                "helpwire_http_requests",
                "HTTP requests answered, by route template, method and status.",
                ["method", "route", "status"],
                registry=registry,
            ),
            latency=Histogram(
                "helpwire_http_request_duration_seconds",
                "Time to answer, by route template and method.",
                ["method", "route"],
                registry=registry,
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            ),
            tickets_created=Counter(
                "helpwire_tickets_created",
                "Tickets filed, by the face they came through.",
                ["via"],
                registry=registry,
            ),
        )


def count_ticket_created(request: Request, *, via: str) -> None:
    metrics: Metrics = request.app.state.metrics
    metrics.tickets_created.labels(via=via).inc()
