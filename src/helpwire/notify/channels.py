"""Rules of channels: what a valid channel is, secrets and their rotation, deliveries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.models import Account, Role, User
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.notify.models import (
    Audience,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
)
from helpwire.notify.outbound import SETTING as ALLOW_SETTING
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.outbox import announce
from helpwire.notify.payloads import test_payload, with_absolute_urls
from helpwire.notify.schemas import ChannelCreate, ChannelFilters, ChannelUpdate, EmailConfig
from helpwire.notify.senders import Sender, SendResult, describe_failure
from helpwire.notify.signing import generate_secret, secret_key
from helpwire.problems import Conflict, NotFound, ValidationProblem
from helpwire.tickets.events import EventType
from helpwire.tickets.models import Priority
from helpwire.topics.models import Topic

EVENT_TYPES: tuple[str, ...] = tuple(e.value for e in EventType)
STAFF_ROLES = (Role.AGENT.value, Role.ADMIN.value)
SECRET_OVERLAP = timedelta(hours=24)

# (concurrency, sends per second) by kind: what each receiver tolerates. Slack allows about
# one message a second per webhook; Discord 30 a minute; a webhook of your own, more.
KIND_DEFAULTS: dict[ChannelKind, tuple[int, float]] = {
    ChannelKind.SLACK: (1, 1.0),
    ChannelKind.MATTERMOST: (1, 2.0),
    ChannelKind.DISCORD: (1, 0.5),
    ChannelKind.TEAMS: (1, 1.0),
    ChannelKind.WEBHOOK: (4, 20.0),
    ChannelKind.EMAIL: (2, 2.0),
    ChannelKind.CUSTOMER_MAIL: (2, 10.0),
}
# Managed by helpwire (mail.channel), from the settings: no admin makes one.
SYSTEM_KINDS = frozenset({ChannelKind.CUSTOMER_MAIL})


def _check_url(url: str | None, kind: ChannelKind, policy: AddressPolicy) -> str:
    if not url:
        raise ValidationProblem.for_field("url", f"a {kind} channel needs the receiver's URL")
    try:
        parts = urlsplit(url)
        _port = parts.port
    except ValueError:
        raise ValidationProblem.for_field("url", "is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationProblem.for_field("url", "must be an absolute http:// or https:// URL")
    _check_host("url", parts.hostname, policy)
    return url


def _check_host(field: str, host: str, policy: AddressPolicy) -> None:
    reason = policy.host_refusal(host)
    if reason is not None:
        raise ValidationProblem.for_field(
            field,
            f"notifications may not go to internal addresses: {reason}; an intranet "
            f"receiver must be allowed in {ALLOW_SETTING}",
        )


def _check_events(events: Sequence[str] | None) -> list[str]:
    if events is None:
        return list(EVENT_TYPES)
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise ValidationProblem.for_field(
            "events", f"unknown event type(s) {', '.join(unknown)}; known: {', '.join(EVENT_TYPES)}"
        )
    if not events:
        raise ValidationProblem.for_field("events", "name at least one event type")
    return list(dict.fromkeys(events))


async def _check_filters(session: AsyncSession, filters: ChannelFilters) -> dict[str, list[str]]:
    bad_priorities = [p for p in filters.priorities if p not in {x.value for x in Priority}]
    if bad_priorities:
        raise ValidationProblem.for_field(
            "filters.priorities", f"unknown priority {', '.join(bad_priorities)}"
        )
    if filters.topics:
        known = set(
            (await session.scalars(select(Topic.key).where(Topic.key.in_(filters.topics)))).all()
        )
        missing = [t for t in filters.topics if t not in known]
        if missing:
            raise ValidationProblem.for_field(
                "filters.topics", f"unknown topic {', '.join(missing)}"
            )
    if filters.accounts:
        known = set(
            (
                await session.scalars(select(Account.key).where(Account.key.in_(filters.accounts)))
            ).all()
        )
        missing = [a for a in filters.accounts if a not in known]
        if missing:
            raise ValidationProblem.for_field(
                "filters.accounts", f"unknown account {', '.join(missing)}"
            )
    await _check_followers(session, filters.followers)
    return {
        "topics": list(dict.fromkeys(filters.topics)),
        "priorities": list(dict.fromkeys(filters.priorities)),
        "accounts": list(dict.fromkeys(filters.accounts)),
        "followers": list(dict.fromkeys(filters.followers)),
    }


async def _check_followers(session: AsyncSession, usernames: list[str]) -> None:
    """Only staff follow tickets: a customer's name would make a channel that never hears
    of anything."""
    if not usernames:
        return
    staff = set(
        (
            await session.scalars(
                select(User.username).where(
                    User.username.in_(usernames), User.role.in_(STAFF_ROLES)
                )
            )
        ).all()
    )
    missing = [u for u in usernames if u not in staff]
    if missing:
        raise ValidationProblem.for_field(
            "filters.followers", f"not a member of staff: {', '.join(missing)}"
        )


def _check_secret(secret: str) -> str:
    try:
        secret_key(secret)
    except ValueError as exc:
        raise ValidationProblem.for_field("secret", str(exc)) from None
    return secret


def _check_audience(include_internal: bool, audience: Audience) -> None:
    if include_internal and audience == Audience.CUSTOMERS:
        raise ValidationProblem.for_field(
            "include_internal", "internal notes are never sent to a channel for customers"
        )


def _email_dict(config: EmailConfig, policy: AddressPolicy) -> dict[str, Any]:
    _check_host("email.host", config.host, policy)
    return config.model_dump(by_alias=True)


async def _check_name_free(
    session: AsyncSession, name: str, *, except_id: int | None = None
) -> None:
    query = select(Channel.id).where(Channel.name == name)
    if except_id is not None:
        query = query.where(Channel.id != except_id)
    if await session.scalar(query) is not None:
        raise Conflict(f"a channel named {name!r} exists already")


def channel_snapshot(channel: Channel) -> dict[str, Any]:
    """What the audit log keeps of a channel; its URL, secrets and SMTP password are
    redacted by the log itself (only whether they changed is kept)."""
    return {
        "name": channel.name,
        "kind": channel.kind,
        "url": channel.url,
        "secret": channel.secret,
        "email": dict(channel.email) if channel.email else None,
        "events": list(channel.events or []),
        "filters": dict(channel.filters or {}),
        "include_internal": channel.include_internal,
        "audience": channel.audience,
        "max_concurrency": channel.max_concurrency,
        "rate_per_second": channel.rate_per_second,
        "enabled": channel.enabled,
        "managed_by": channel.managed_by,
    }


async def _audit_channel(
    session: AsyncSession,
    *,
    action: str,
    channel: Channel,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit(
        session,
        action=action,
        target_type=TargetType.CHANNEL,
        target_key=channel.id,
        before=before,
        after=after,
    )


async def create_channel(
    session: AsyncSession,
    *,
    spec: ChannelCreate,
    policy: AddressPolicy,
    managed_by: str = "api",
) -> tuple[Channel, str | None]:
    """The new channel, and its signing secret when one was generated or given."""
    now = utcnow()
    kind = spec.kind
    if kind in SYSTEM_KINDS:
        raise ValidationProblem.for_field(
            "kind", f"{kind.value} is made by helpwire from HELPWIRE_MAIL_SMTP_URL"
        )
    await _check_name_free(session, spec.name)
    _check_audience(spec.include_internal, spec.audience)
    concurrency, rate = KIND_DEFAULTS[kind]
    channel = Channel(
        name=spec.name,
        kind=kind.value,
        events=_check_events(spec.events),
        filters=await _check_filters(session, spec.filters),
        include_internal=spec.include_internal,
        audience=spec.audience.value,
        max_concurrency=spec.max_concurrency or concurrency,
        rate_per_second=spec.rate_per_second or rate,
        enabled=spec.enabled,
        managed_by=managed_by,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )
    secret: str | None = None
    if kind == ChannelKind.EMAIL:
        if spec.email is None:
            raise ValidationProblem.for_field("email", "an email channel needs its SMTP settings")
        if spec.url is not None:
            raise ValidationProblem.for_field("url", "an email channel has no URL")
        channel.email = _email_dict(spec.email, policy)
    else:
        if spec.email is not None:
            raise ValidationProblem.for_field("email", "only email channels take SMTP settings")
        channel.url = _check_url(spec.url, kind, policy)
    if kind == ChannelKind.WEBHOOK:
        secret = _check_secret(spec.secret) if spec.secret else generate_secret()
        channel.secret = secret
    elif spec.secret is not None:
        raise ValidationProblem.for_field("secret", "only webhook channels are signed")
    session.add(channel)
    await session.flush()
    await _audit_channel(
        session,
        action="channel.created",
        channel=channel,
        before=None,
        after=channel_snapshot(channel),
    )
    return channel, secret


async def update_channel(
    session: AsyncSession,
    *,
    channel: Channel,
    changes: ChannelUpdate,
    policy: AddressPolicy,
    allow_managed: bool = False,
) -> tuple[Channel, str | None]:
    if channel.managed_by != "api" and not allow_managed:
        raise Conflict(f"channel {channel.name!r} is {_managed_where(channel)}; change it there")
    now = utcnow()
    before = channel_snapshot(channel)
    given = changes.model_fields_set
    kind = ChannelKind(channel.kind)
    if "name" in given and changes.name is not None and changes.name != channel.name:
        await _check_name_free(session, changes.name, except_id=channel.id)
        channel.name = changes.name
    _apply_address(channel, changes, kind, policy)
    if "events" in given:
        channel.events = _check_events(changes.events)
    if "filters" in given and changes.filters is not None:
        channel.filters = await _check_filters(session, changes.filters)
    _apply_audience_and_pace(channel, changes)
    if changes.enabled is not None and changes.enabled != channel.enabled:
        channel.enabled = changes.enabled
        channel.disabled_reason = None if changes.enabled else "disabled by an admin"
        if changes.enabled:
            channel.consecutive_failures = 0
            await announce(session)  # its waiting deliveries may go now
    secret = _apply_secret(channel, changes, kind, now)
    channel.updated_at = now
    await session.flush()
    await _audit_channel(
        session,
        action="channel.updated",
        channel=channel,
        before=before,
        after=channel_snapshot(channel),
    )
    return channel, secret


def _apply_address(
    channel: Channel, changes: ChannelUpdate, kind: ChannelKind, policy: AddressPolicy
) -> None:
    """Where the channel sends: a URL, or an email channel's SMTP settings."""
    given = changes.model_fields_set
    if "url" in given:
        if kind == ChannelKind.EMAIL:
            raise ValidationProblem.for_field("url", "an email channel has no URL")
        channel.url = _check_url(changes.url, kind, policy)
    if "email" in given:
        if kind != ChannelKind.EMAIL or changes.email is None:
            raise ValidationProblem.for_field("email", "only email channels take SMTP settings")
        config = _email_dict(changes.email, policy)
        if config.get("password") is None and channel.email:
            config["password"] = channel.email.get("password")  # keep it unless replaced
        channel.email = config


def _apply_audience_and_pace(channel: Channel, changes: ChannelUpdate) -> None:
    """Who the channel speaks to, checked as a pair, and how fast it may send."""
    include_internal = (
        changes.include_internal
        if "include_internal" in changes.model_fields_set and changes.include_internal is not None
        else channel.include_internal
    )
    audience = changes.audience if changes.audience is not None else Audience(channel.audience)
    _check_audience(include_internal, audience)
    channel.include_internal, channel.audience = include_internal, audience.value
    if changes.max_concurrency is not None:
        channel.max_concurrency = changes.max_concurrency
    if changes.rate_per_second is not None:
        channel.rate_per_second = changes.rate_per_second


def _apply_secret(
    channel: Channel, changes: ChannelUpdate, kind: ChannelKind, now: datetime
) -> str | None:
    """A new signing secret (given or generated), shown once; the old one keeps working for
    SECRET_OVERLAP so receivers can switch without losing deliveries."""
    given_secret = "secret" in changes.model_fields_set and changes.secret is not None
    if not changes.rotate_secret and not given_secret:
        return None
    if kind != ChannelKind.WEBHOOK:
        raise ValidationProblem.for_field("secret", "only webhook channels are signed")
    secret = _check_secret(changes.secret) if changes.secret else generate_secret()
    channel.previous_secret = channel.secret
    channel.previous_secret_expires_at = now + SECRET_OVERLAP
    channel.secret = secret
    return secret


async def get_channel(session: AsyncSession, *, channel_id: int) -> Channel:
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"no channel {channel_id}")
    return channel


async def list_channels(session: AsyncSession) -> Sequence[Channel]:
    return (await session.scalars(select(Channel).order_by(Channel.name))).all()


def _managed_where(channel: Channel) -> str:
    if channel.managed_by == "mail":
        return "made from the HELPWIRE_MAIL_ settings"
    return "declared in the settings"


async def delete_channel(session: AsyncSession, *, channel: Channel) -> None:
    if channel.managed_by != "api":
        raise Conflict(f"channel {channel.name!r} is {_managed_where(channel)}; remove it there")
    before = channel_snapshot(channel)
    await _audit_channel(
        session, action="channel.deleted", channel=channel, before=before, after=None
    )
    await session.delete(channel)
    await session.flush()


async def send_test(channel: Channel, *, base_url: str, policy: AddressPolicy) -> SendResult:
    """Send a test message to ``channel`` now and return the receiver's answer. Call it
    with no transaction open: the receiver may take its time."""
    now = utcnow()
    payload = with_absolute_urls(
        test_payload(channel_name=channel.name, timestamp=now.isoformat()), base_url
    )
    sender = Sender(policy=policy)
    try:
        return await sender.send(
            channel, payload, message_id="msg_test_" + now.strftime("%Y%m%d%H%M%S%f"), now=now
        )
    finally:
        await sender.aclose()


async def record_test(session: AsyncSession, *, channel_id: int, result: SendResult) -> None:
    """A test's outcome counts in the channel's health like a delivery's: an admin who
    saw a test fail must not find the channel called healthy."""
    channel = await session.get(Channel, channel_id)
    if channel is None:  # deleted while the test was on its way
        return
    now = utcnow()
    if result.ok:
        channel.last_success_at = now
        channel.consecutive_failures = 0
    else:
        channel.last_failure_at = now
        channel.last_failure_reason = "Send test: " + describe_failure(result)
        channel.consecutive_failures += 1
    await session.flush()


async def send_test_outside_transaction(
    database: Database, *, channel_id: int, base_url: str, policy: AddressPolicy
) -> tuple[Channel, SendResult]:
    """*Send test* with no writing transaction open while the receiver answers (up to the
    send timeout): on SQLite an open one holds the write lock, and every other writer
    waits. The channel is read in a reading transaction, the message sent, and the result
    recorded in a short writing transaction of its own. Call it from a route that holds no
    request transaction (no ``Session``)."""
    async with database.reader() as session:
        channel = await get_channel(session, channel_id=channel_id)
    if channel.kind in SYSTEM_KINDS:
        # Its messages go to customers; there is no one a test could be sent to.
        raise Conflict(f"channel {channel.name!r} sends only the mail of tickets")
    result = await send_test(channel, base_url=base_url, policy=policy)
    async with database.writing() as session:
        await record_test(session, channel_id=channel_id, result=result)
    return channel, result


async def list_deliveries(
    session: AsyncSession,
    *,
    channel: Channel,
    state: DeliveryState | None,
    before_id: int | None,
    limit: int,
) -> tuple[list[Delivery], bool]:
    """Newest first. (page, whether more follow)."""
    query = select(Delivery).where(Delivery.channel_id == channel.id)
    if state is not None:
        query = query.where(Delivery.state == state.value)
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    rows = list(
        (await session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1))).unique()
    )
    return rows[:limit], len(rows) > limit


async def get_delivery(
    session: AsyncSession, *, delivery_id: int
) -> tuple[Delivery, list[DeliveryAttempt]]:
    delivery = await session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"no delivery {delivery_id}")
    attempts = (
        await session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id)
        )
    ).all()
    return delivery, list(attempts)


async def redeliver(session: AsyncSession, *, delivery_id: int) -> Delivery:
    """Send it again, now, from the start of the retry schedule (same webhook-id)."""
    delivery, _attempts = await get_delivery(session, delivery_id=delivery_id)
    if not delivery.channel.enabled:
        raise Conflict(
            f"channel {delivery.channel.name!r} is disabled ({delivery.channel.disabled_reason}); "
            "enable it first"
        )
    if delivery.state == DeliveryState.PENDING and delivery.claimed_by is not None:
        raise Conflict("the delivery is being sent right now")
    delivery.state = DeliveryState.PENDING.value
    delivery.schedule_step = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_by = None
    delivery.claimed_until = None
    delivery.dead_at = None
    await announce(session)
    await session.flush()
    return delivery


# --- channels declared in the settings ------------------------------------------------


def declared_channels(*, inline: str | None, path: Path | None) -> list[ChannelCreate]:
    """Parse HELPWIRE_CHANNELS / HELPWIRE_CHANNELS_FILE; a mistake is a ValueError that
    names the setting, so that a deployment fails loudly at start."""
    documents: list[tuple[str, Any]] = []
    if inline:
        try:
            documents.append(("HELPWIRE_CHANNELS", json.loads(inline)))
        except json.JSONDecodeError as exc:
            raise ValueError(f"HELPWIRE_CHANNELS is not valid JSON: {exc}") from None
    if path is not None:
        text = path.read_text(encoding="utf-8")
        try:
            documents.append(
                (
                    "HELPWIRE_CHANNELS_FILE",
                    json.loads(text) if path.suffix == ".json" else yaml.safe_load(text),
                )
            )
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            raise ValueError(f"HELPWIRE_CHANNELS_FILE {path} cannot be read: {exc}") from None
    specs: list[ChannelCreate] = []
    for source, document in documents:
        items = document.get("channels") if isinstance(document, dict) else document
        if not isinstance(items, list):
            raise ValueError(f"{source} must be a list of channels (or {{channels: [...]}})")
        for index, item in enumerate(items):
            try:
                specs.append(ChannelCreate.model_validate(item))
            except ValidationError as exc:
                raise ValueError(f"{source}[{index}] is not a valid channel: {exc}") from None
    return specs


async def sync_declared_channels(
    session: AsyncSession, *, specs: Sequence[ChannelCreate], policy: AddressPolicy
) -> None:
    """Make the settings-declared channels exist as declared (matched by name). Channels
    that were declared before but are no longer are disabled, not deleted: their delivery
    log stays."""
    existing = {
        c.name: c
        for c in (
            await session.scalars(select(Channel).where(Channel.managed_by == "settings"))
        ).all()
    }
    for spec in specs:
        channel = existing.pop(spec.name, None)
        if channel is None:
            other = await session.scalar(select(Channel).where(Channel.name == spec.name))
            if other is not None:
                raise Conflict(f"channel {spec.name!r} exists already, made over the API")
            await create_channel(session, spec=spec, policy=policy, managed_by="settings")
            continue
        update = ChannelUpdate.model_validate(
            {
                k: v
                for k, v in spec.model_dump(by_alias=True, exclude_unset=True).items()
                if k not in ("kind", "secret")
            }
        )
        if spec.secret and spec.secret != channel.secret:
            update.secret = spec.secret
        await update_channel(
            session, channel=channel, changes=update, policy=policy, allow_managed=True
        )
    for gone in existing.values():
        gone.enabled = False
        gone.disabled_reason = "no longer declared in the settings"


async def purge_delivered(session: AsyncSession, *, older_than: timedelta) -> int:
    """Forget delivered notifications older than the retention; failed and dead ones stay
    until an admin deals with them."""
    result = await session.execute(
        delete(Delivery).where(
            Delivery.state == DeliveryState.DELIVERED.value,
            Delivery.delivered_at < utcnow() - older_than,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def apply_declared_channels(
    session: AsyncSession, *, inline: str | None, path: Path | None, policy: AddressPolicy
) -> int:
    """Sync the channels of HELPWIRE_CHANNELS / HELPWIRE_CHANNELS_FILE; how many there are."""
    specs = declared_channels(inline=inline, path=path)
    await sync_declared_channels(session, specs=specs, policy=policy)
    return len(specs)
