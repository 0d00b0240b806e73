"""Writing the audit log: :func:`record`, called by the services that change what admins
manage, in the transaction that makes the change.

Who acts travels with the transaction: the HTTP layer names the caller once, when it
resolves them (:func:`act_as`), and every entry written in that session carries them. A
service therefore needs no extra argument to be audited, and work with no caller (the
command line, the worker) is recorded as the system's."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.audit.models import AuditEntry
from helpwire.db.base import utcnow

_ACTOR_KEY = "helpwire.audit.actor"
REDACTED = "[redacted]"
REDACTED_CHANGED = "[redacted, changed]"
# Keys whose values never reach the log, at any depth: a copy of the log must not let
# anyone sign in, forge a webhook signature or post to a channel's receiver.
SECRET_KEYS = frozenset(
    {
        "password",
        "password_hash",
        "token",
        "token_hash",
        "secret",
        "signing_secret",
        "url",
        "webhook_url",
        "smtp_password",
        "imap_password",
        "api_key",
        "authorization",
    }
)


class TargetType(enum.StrEnum):
    USER = "user"
    ACCOUNT = "account"
    TOPIC = "topic"
    TOKEN = "token"  # noqa: S105 (a kind of target, not a secret)
    CHANNEL = "channel"
    MAIL_TEMPLATE = "mail_template"
    GROUP = "group"
    CALENDAR = "calendar"
    SLA_POLICY = "sla_policy"
    TRIGGER = "trigger"
    AUTOMATION = "automation"
    MACRO = "macro"
    FIELD = "field"
    RETENTION = "retention"


@dataclass(frozen=True)
class AuditActor:
    user_id: int
    username: str
    request_id: str | None = None


def act_as(session: AsyncSession, *, actor: AuditActor) -> None:
    """Every entry this transaction writes from now on is ``actor``'s."""
    session.info[_ACTOR_KEY] = actor


def acting(session: AsyncSession) -> AuditActor | None:
    actor = session.info.get(_ACTOR_KEY)
    return actor if isinstance(actor, AuditActor) else None


def redacted(value: Any, *, compare_with: Any = None) -> Any:
    """``value`` with every secret replaced by a marker; a secret that differs from the
    same key of ``compare_with`` says that it changed (the only thing the log tells)."""
    if isinstance(value, Mapping):
        other = compare_with if isinstance(compare_with, Mapping) else {}
        return {
            str(key): _redacted_item(str(key), item, other.get(key)) for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redacted(item) for item in value]
    return value


def _redacted_item(key: str, item: Any, other: Any) -> Any:
    if key.lower() not in SECRET_KEYS:
        return redacted(item, compare_with=other)
    if item is None or item == "":
        return item
    return REDACTED_CHANGED if other is not None and other != item else REDACTED


async def record(
    session: AsyncSession,
    *,
    action: str,
    target_type: TargetType,
    target_key: str | int,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    subject_user_id: int | None = None,
) -> AuditEntry | None:
    """One entry for a change of ``target_type`` ``target_key``. A change that changed
    nothing (``before == after``, both given) leaves no entry: the log lists changes."""
    if before is not None and after is not None and dict(before) == dict(after):
        return None
    actor = acting(session)
    entry = AuditEntry(
        at=utcnow(),
        actor_id=actor.user_id if actor else None,
        actor_name=actor.username if actor else None,
        action=action,
        target_type=str(target_type),
        target_key=str(target_key)[:255],
        subject_user_id=subject_user_id,
        before=None if before is None else redacted(before),
        after=None if after is None else redacted(after, compare_with=before),
        request_id=(actor.request_id if actor else None),
    )
    session.add(entry)
    return entry
