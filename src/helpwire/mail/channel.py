"""The notify channel that carries mail to customers: one row, made and kept in step with
the HELPWIRE_MAIL_ settings by helpwire itself (``managed_by = "mail"``), so that mail goes
through the relay's retries, attempt log and delivery log like every notification."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.db.base import utcnow
from helpwire.db.session import Database
from helpwire.mail.config import MailConfig
from helpwire.notify.channels import KIND_DEFAULTS
from helpwire.notify.models import Audience, Channel, ChannelKind

log = logging.getLogger(__name__)

CHANNEL_NAME = "customer-mail"
MANAGED_BY = "mail"
NOT_SET_UP = "HELPWIRE_MAIL_SMTP_URL is not set: mail to customers waits until it is"


async def _mail_channel(session: AsyncSession) -> Channel | None:
    query = select(Channel).where(Channel.kind == ChannelKind.CUSTOMER_MAIL.value)
    channel: Channel | None = await session.scalar(query)
    return channel


def _new_channel(config: MailConfig) -> Channel:
    now = utcnow()
    concurrency, rate = KIND_DEFAULTS[ChannelKind.CUSTOMER_MAIL]
    return Channel(
        name=CHANNEL_NAME,
        kind=ChannelKind.CUSTOMER_MAIL.value,
        email=config.smtp.as_channel_config(str(config.sender)),
        # The outbox never routes events to it: the mail subscriber queues its messages.
        events=[],
        filters={},
        include_internal=False,
        audience=Audience.CUSTOMERS.value,
        max_concurrency=concurrency,
        rate_per_second=rate,
        enabled=True,
        managed_by=MANAGED_BY,
        consecutive_failures=0,
        created_at=now,
        updated_at=now,
    )


async def mail_channel_id(session: AsyncSession, config: MailConfig) -> int:
    """The channel's id, made now if the start of this process has not made it yet. Its
    id alone: this runs for every message queued, and loading the row would decrypt its
    SMTP password each time."""
    found: int | None = await session.scalar(
        select(Channel.id).where(Channel.kind == ChannelKind.CUSTOMER_MAIL.value)
    )
    if found is not None:
        return found
    channel = _new_channel(config)
    session.add(channel)
    await session.flush()
    return channel.id


async def sync_mail_channel(session: AsyncSession, config: MailConfig | None) -> None:
    """At start: the channel as the settings say. Without mail settings an existing channel
    is disabled, never deleted, so that its undelivered mail waits rather than vanishes."""
    channel = await _mail_channel(session)
    now = utcnow()
    if config is None:
        if channel is not None and channel.enabled:
            channel.enabled = False
            channel.disabled_reason = NOT_SET_UP
            channel.updated_at = now
            log.warning("mail to customers is off: %s", NOT_SET_UP)
        return
    if channel is None:
        session.add(_new_channel(config))
        await session.flush()
        return
    wanted = config.smtp.as_channel_config(str(config.sender))
    if channel.email != wanted or not channel.enabled:
        channel.email = wanted
        channel.enabled = True
        channel.disabled_reason = None
        channel.updated_at = now


async def prepare_mail_channel(database: Database, config: MailConfig | None) -> None:
    """:func:`sync_mail_channel` in a transaction of its own, at the start of a process.
    Several processes may start at once: the one that finds the channel made by another
    meanwhile (the name is unique) leaves it to that one."""
    try:
        async with database.writing() as session:
            await sync_mail_channel(session, config)
    except IntegrityError:
        log.info("the mail channel was made by another process starting at the same time")
