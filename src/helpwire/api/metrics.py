"""Prometheus metrics. Each app has its own registry, so several can live in one process."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    tickets_created: Counter
    deliveries: Counter
    delivery_latency: Histogram
    deliveries_by_state: Gauge
    queue_depth: Gauge
    oldest_pending_age: Gauge
    jobs_by_state: Gauge
    jobs_oldest_due_age: Gauge

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
            deliveries=Counter(
                "helpwire_delivery_attempts",
                "Delivery attempts by channel kind and outcome (delivered, retry, dead, disabled).",
                ["kind", "outcome"],
                registry=registry,
            ),
            delivery_latency=Histogram(
                "helpwire_delivery_latency_seconds",
                "From the event's commit to the receiver's 2xx.",
                registry=registry,
                buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86400),
            ),
            deliveries_by_state=Gauge(
                "helpwire_deliveries",
                "Deliveries not yet delivered, by state (pending, failed, dead).",
                ["state"],
                registry=registry,
            ),
            queue_depth=Gauge(
                "helpwire_outbox_queue_depth",
                "Deliveries waiting to be sent (pending or failed).",
                registry=registry,
            ),
            oldest_pending_age=Gauge(
                "helpwire_outbox_oldest_pending_age_seconds",
                "Age of the oldest delivery still waiting to be sent.",
                registry=registry,
            ),
            jobs_by_state=Gauge(
                "helpwire_jobs",
                "Jobs in the queue, by state (pending, running, failed, dead).",
                ["state"],
                registry=registry,
            ),
            jobs_oldest_due_age=Gauge(
                "helpwire_jobs_oldest_due_age_seconds",
                "How long the oldest due job has waited past its time (0: none waiting).",
                registry=registry,
            ),
        )


def count_ticket_created(request: Request, *, via: str) -> None:
    metrics: Metrics = request.app.state.metrics
    metrics.tickets_created.labels(via=via).inc()
