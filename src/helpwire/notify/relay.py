"""The relay: claims due deliveries, sends them, records every attempt.

Delivery is at least once. A delivery is claimed with a lease (claimed_until); a relay that
dies mid-batch leaves its claims to expire, and another relay then sends them again, with
the same webhook-id. On PostgreSQL claims use FOR UPDATE SKIP LOCKED, so any number of
relays share the work without sending anything twice while they are healthy.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.base import utcnow
from helpwire.db.listen import run_woken
from helpwire.db.session import Database
from helpwire.files.storage import FileStorage
from helpwire.notify.metrics import DeliveryMetrics
from helpwire.notify.models import DUE_STATES, Channel, Delivery, DeliveryAttempt, DeliveryState
from helpwire.notify.outbound import STRICT, AddressPolicy, redact_url
from helpwire.notify.payloads import with_absolute_urls
from helpwire.notify.senders import Sender, SendResult, describe_failure
from helpwire.notify.signal import OUTBOX_SIGNAL, PG_CHANNEL

log = logging.getLogger("helpwire.relay")

# Standard Webhooks: immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h
# and 24 h; after the last failure the delivery is dead.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
JITTER = 0.1  # each wait is stretched or shrunk by up to 10%, so retries do not stampede
# Throttling (429 / 503 with Retry-After) does not use up the schedule, but this many
# attempts in all make a delivery dead whatever the answers were.
MAX_ATTEMPTS = 50
MIN_RETRY_AFTER = timedelta(seconds=1)
GAUGE_REFRESH_S = 5.0

Clock = Callable[[], datetime]


def relay_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class RateLimiter:
    """At most ``rate`` sends a second: callers queue for their slot, nothing is dropped."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._next_slot = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = asyncio.get_running_loop().time()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + self._interval
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass
class _ChannelLimits:
    semaphore: asyncio.Semaphore
    limiter: RateLimiter
    concurrency: int
    rate: float


class Relay:
    def __init__(
        self,
        database: Database,
        *,
        base_url: str,
        metrics: DeliveryMetrics | None = None,
        sender: Sender | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        batch_size: int = 100,
        lease: timedelta = timedelta(seconds=60),
        poll_interval: float = 5.0,
        name: str | None = None,
        policy: AddressPolicy = STRICT,
        files: FileStorage | None = None,
    ) -> None:
        self.database = database
        self.base_url = base_url
        self.metrics = metrics
        self.sender = sender or Sender(policy=policy, files=files)
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 (jitter, not cryptography)
        self.batch_size = batch_size
        self.lease = lease
        self.poll_interval = poll_interval
        self.name = name or relay_name()
        self._limits: dict[int, _ChannelLimits] = {}
        self._gauges_refreshed = 0.0
        self._is_postgres = database.engine.dialect.name == "postgresql"

    async def aclose(self) -> None:
        await self.sender.aclose()

    # --- one pass -----------------------------------------------------------------------

    async def run_once(self) -> int:
        """Send everything due now; how many deliveries were attempted."""
        attempted = 0
        while batch := await self._claim():
            await self._deliver_batch(batch)
            attempted += len(batch)
            if len(batch) < self.batch_size:
                # All that was due is sent. Claiming again would only find it empty (a
                # transaction per pass); what was committed meanwhile has set the wake-up
                # signal, and its pass runs next.
                break
        return attempted

    async def _deliver_batch(self, batch: list[Delivery]) -> None:
        """Send the claimed deliveries at once, and record each attempt as soon as it is
        over: the attempts that end together (under load, most of them) are recorded in one
        transaction, one that ends late (a slow receiver) waits for no other."""
        finished: asyncio.Queue[tuple[Delivery, SendResult] | None] = asyncio.Queue()
        recorder = asyncio.create_task(self._record_as_finished(finished))

        async def send(delivery: Delivery) -> None:
            await finished.put((delivery, await self._send(delivery)))

        try:
            await asyncio.gather(*(send(d) for d in batch))
        finally:
            finished.put_nowait(None)
            await recorder

    async def _record_as_finished(
        self, finished: asyncio.Queue[tuple[Delivery, SendResult] | None]
    ) -> None:
        done = False
        while not done:
            ready = [await finished.get()]
            while not finished.empty():
                ready.append(finished.get_nowait())
            done = ready[-1] is None
            attempts = [item for item in ready if item is not None]
            if not attempts:
                continue
            try:
                await self._record(attempts)
            except Exception:
                # The claims expire and the deliveries are tried again: at least once.
                log.exception(
                    "could not record attempts",
                    extra={"deliveries": [delivery.id for delivery, _ in attempts]},
                )

    async def _claim(self) -> list[Delivery]:
        now = self.clock()
        async with self.database.writing() as session:
            due = (
                select(Delivery.id)
                .join(Channel, Channel.id == Delivery.channel_id)
                .where(
                    Delivery.state.in_(DUE_STATES),
                    Delivery.next_attempt_at <= now,
                    or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
                    Channel.enabled.is_(True),
                )
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self.batch_size)
            )
            if self._is_postgres:
                due = due.with_for_update(of=Delivery, skip_locked=True)
            # Chosen and claimed by one statement, the rows read by a second.
            claimed = await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(due.scalar_subquery()))
                .values(claimed_by=self.name, claimed_until=now + self.lease)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            )
            ids = list(claimed.scalars())
            if not ids:
                return []
            rows = await session.scalars(
                select(Delivery).where(Delivery.id.in_(ids)).order_by(Delivery.id)
            )
            return list(rows.unique())

    def _limits_for(self, channel: Channel) -> _ChannelLimits:
        limits = self._limits.get(channel.id)
        if (
            limits is None
            or limits.concurrency != channel.max_concurrency
            or limits.rate != channel.rate_per_second
        ):
            limits = _ChannelLimits(
                semaphore=asyncio.Semaphore(max(1, channel.max_concurrency)),
                limiter=RateLimiter(channel.rate_per_second),
                concurrency=channel.max_concurrency,
                rate=channel.rate_per_second,
            )
            self._limits[channel.id] = limits
        return limits

    async def _send(self, delivery: Delivery) -> SendResult:
        channel = delivery.channel
        limits = self._limits_for(channel)
        async with limits.semaphore:
            await limits.limiter.acquire()
            payload = with_absolute_urls(delivery.payload, self.base_url)
            try:
                result = await self.sender.send(
                    channel, payload, message_id=delivery.message_id, now=self.clock()
                )
            except Exception as exc:  # a bug in a formatter must not stop the relay
                log.exception("sender failed", extra={"delivery": delivery.id})
                result = SendResult(ok=False, duration_ms=0.0, error=f"internal error: {exc!r}")
        if not result.ok:
            log.warning(
                "delivery failed",
                extra={
                    "delivery": delivery.id,
                    "channel": channel.id,
                    "target": target(channel),
                    "status_code": result.status_code,
                    "error": result.error,
                },
            )
        return result

    def _retry_delay(self, step: int) -> timedelta:
        base = RETRY_SCHEDULE[step]
        return base * (1 + self.rng.uniform(-JITTER, JITTER))

    async def _record(self, attempts: list[tuple[Delivery, SendResult]]) -> None:
        """Record attempts, in the order they ended, in one transaction."""
        now = self.clock()
        counted: list[tuple[str, str, datetime]] = []
        async with self.database.writing() as session:
            rows = await session.scalars(
                select(Delivery).where(Delivery.id.in_([claimed.id for claimed, _ in attempts]))
            )
            deliveries = {delivery.id: delivery for delivery in rows.unique()}
            for claimed, result in attempts:
                delivery = deliveries.get(claimed.id)
                if delivery is None:  # its channel was deleted meanwhile
                    continue
                outcome = self._record_one(session, delivery, result, now)
                counted.append((delivery.channel.kind, outcome, delivery.created_at))
        if self.metrics is not None:
            for kind, outcome, created_at in counted:
                self.metrics.deliveries.labels(kind=kind, outcome=outcome).inc()
                if outcome == "delivered":
                    latency = max((now - created_at).total_seconds(), 0)
                    self.metrics.delivery_latency.observe(latency)

    def _record_one(
        self, session: AsyncSession, delivery: Delivery, result: SendResult, now: datetime
    ) -> str:
        delivery.attempt_count += 1
        delivery.last_status_code = result.status_code
        delivery.last_error = result.error
        if delivery.claimed_by == self.name:
            delivery.claimed_by = None
            delivery.claimed_until = None
        outcome = self._apply_result(delivery, delivery.channel, result, now)
        session.add(
            DeliveryAttempt(
                delivery_id=delivery.id,
                attempted_at=now,
                duration_ms=round(result.duration_ms, 3),
                status_code=result.status_code,
                response_snippet=result.response,
                error=result.error,
                outcome=outcome,
                relay=self.name,
            )
        )
        return outcome

    def _apply_result(
        self, delivery: Delivery, channel: Channel, result: SendResult, now: datetime
    ) -> str:
        if result.ok:
            delivery.state = DeliveryState.DELIVERED.value
            delivery.delivered_at = now
            delivery.next_attempt_at = None
            channel.last_success_at = now
            channel.consecutive_failures = 0
            return "delivered"
        channel.last_failure_at = now
        channel.consecutive_failures += 1
        channel.last_failure_reason = describe_failure(result)
        if delivery.state == DeliveryState.DELIVERED:
            return "retry"  # another relay delivered it meanwhile; keep that
        if result.gone:
            channel.enabled = False
            channel.disabled_reason = (
                f"the receiver answered 410 Gone on {now.isoformat()}; "
                "enable the channel again once its URL is fixed"
            )
            channel.updated_at = now
            self._kill(delivery, now)
            return "disabled"
        if delivery.attempt_count >= MAX_ATTEMPTS:
            self._kill(delivery, now)
            return "dead"
        if result.retry_after_s is not None:
            delivery.state = DeliveryState.FAILED.value
            delivery.next_attempt_at = now + max(
                timedelta(seconds=result.retry_after_s), MIN_RETRY_AFTER
            )
            return "retry"
        step = delivery.schedule_step + 1
        if step >= len(RETRY_SCHEDULE):
            self._kill(delivery, now)
            return "dead"
        delivery.schedule_step = step
        delivery.state = DeliveryState.FAILED.value
        delivery.next_attempt_at = now + self._retry_delay(step)
        return "retry"

    @staticmethod
    def _kill(delivery: Delivery, now: datetime) -> None:
        delivery.state = DeliveryState.DEAD.value
        delivery.dead_at = now
        delivery.next_attempt_at = None

    # --- running for good ---------------------------------------------------------------

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Send as work arrives until ``stop`` is set."""
        log.info("relay started", extra={"relay": self.name})
        try:
            await run_woken(
                self.database,
                signal_name=OUTBOX_SIGNAL,
                channel=PG_CHANNEL,
                one_pass=self._one_pass,
                poll_interval=self.poll_interval,
                stop=stop,
                log=log,
                who={"relay": self.name},
            )
        finally:
            log.info("relay stopped", extra={"relay": self.name})

    async def _one_pass(self) -> float:
        """Sends what is due; the seconds until more is."""
        await self.run_once()
        await self.refresh_gauges()
        return await self._seconds_until_next_due()

    async def _seconds_until_next_due(self) -> float:
        now = self.clock()
        async with self.database.reader() as session:
            next_due = await session.scalar(
                select(func.min(func.coalesce(Delivery.claimed_until, Delivery.next_attempt_at)))
                .join(Channel, Channel.id == Delivery.channel_id)
                .where(Delivery.state.in_(DUE_STATES), Channel.enabled.is_(True))
            )
        if next_due is None:
            return self.poll_interval
        if isinstance(next_due, str):  # SQLite computes min() over text
            next_due = datetime.fromisoformat(next_due)
        if next_due.tzinfo is None:
            next_due = next_due.replace(tzinfo=now.tzinfo)
        return max(0.0, min(self.poll_interval, (next_due - now).total_seconds()))

    async def refresh_gauges(self, *, force: bool = False) -> None:
        """Queue depth, oldest waiting age and counts by state, at most every few seconds."""
        if self.metrics is None:
            return
        loop_time = asyncio.get_running_loop().time()
        if not force and loop_time - self._gauges_refreshed < GAUGE_REFRESH_S:
            return
        self._gauges_refreshed = loop_time
        now = self.clock()
        async with self.database.reader() as session:
            rows = (
                await session.execute(
                    select(Delivery.state, func.count(), func.min(Delivery.created_at))
                    .where(Delivery.state.in_([*DUE_STATES, DeliveryState.DEAD.value]))
                    .group_by(Delivery.state)
                )
            ).all()
        by_state = {state: (count, oldest) for state, count, oldest in rows}
        for state in (*DUE_STATES, DeliveryState.DEAD.value):
            self.metrics.deliveries_by_state.labels(state=state).set(by_state.get(state, (0,))[0])
        self.metrics.queue_depth.set(sum(by_state.get(s, (0,))[0] for s in DUE_STATES))
        oldest = [by_state[s][1] for s in DUE_STATES if s in by_state and by_state[s][1]]
        age = 0.0
        if oldest:
            first = min(_as_datetime(o, now) for o in oldest)
            age = max((now - first).total_seconds(), 0.0)
        self.metrics.oldest_pending_age.set(age)


def _as_datetime(value: Any, now: datetime) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=now.tzinfo)


def target(channel: Channel) -> str:
    """Where a channel sends, as logs may show it: no path, no credentials."""
    if channel.email:
        return f"smtp://{channel.email.get('host')}"
    return redact_url(channel.url)
