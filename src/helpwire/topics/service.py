"""Rules of the topics domain."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.counting import capped_count
from helpwire.problems import Conflict, NotFound, ValidationProblem
from helpwire.topics.models import Subtopic, Topic

_KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")


def check_names(field: str, names: Mapping[str, str]) -> dict[str, str]:
    clean = {lang.strip().lower(): name.strip() for lang, name in names.items()}
    if "en" not in clean or not clean["en"]:
        raise ValidationProblem.for_field(field, 'needs at least an English name ("en")')
    for lang, name in clean.items():
        if not re.match(r"^[a-z]{2,3}(-[a-z0-9]{2,8})?$", lang):
            raise ValidationProblem.for_field(field, f"{lang!r} is not a language code")
        if not name or len(name) > 255:
            raise ValidationProblem.for_field(f"{field}.{lang}", "must be 1..255 characters")
    return clean


def topic_name(names: Mapping[str, str], locales: str | Sequence[str] | None, fallback: str) -> str:
    """A topic's (or subtopic's) name in the reader's language, the one rule every face
    uses. ``locales`` are the reader's languages, most preferred first (one, several, or
    none). For each in turn: its exact name (``de-ch``), then its language part (``de``);
    after them English, then whichever name the topic has, and ``fallback`` (the key) for a
    topic without names."""
    wanted = [locales] if isinstance(locales, str) else list(locales or ())
    for locale in wanted:
        tag = locale.strip().lower()
        for candidate in (tag, tag.split("-", 1)[0]):
            if names.get(candidate):
                return names[candidate]
    if names.get("en"):
        return names["en"]
    return next((name for name in names.values() if name), fallback)


def check_key(field: str, key: str) -> str:
    if not _KEY_RE.match(key):
        raise ValidationProblem.for_field(
            field,
            "must be 1..64 lower-case letters, digits, _ . or -, starting with a letter or digit",
        )
    return key


async def resolve_topic(
    session: AsyncSession, *, topic_key: str | None, subtopic_key: str | None
) -> tuple[Topic | None, Subtopic | None]:
    """The active topic and subtopic named by their keys; a bad key is a 422 on its field."""
    if topic_key is None:
        if subtopic_key is not None:
            raise ValidationProblem.for_field("subtopic", "a subtopic needs its topic")
        return None, None
    topic = await session.scalar(select(Topic).where(Topic.key == topic_key))
    if topic is None or not topic.is_active:
        raise ValidationProblem.for_field("topic", f"unknown topic {topic_key!r}", "unknown_topic")
    if subtopic_key is None:
        return topic, None
    subtopic = next((s for s in topic.subtopics if s.key == subtopic_key and s.is_active), None)
    if subtopic is None:
        raise ValidationProblem.for_field(
            "subtopic", f"topic {topic_key!r} has no subtopic {subtopic_key!r}", "unknown_topic"
        )
    return topic, subtopic


async def list_topics(session: AsyncSession, *, include_inactive: bool = False) -> Sequence[Topic]:
    query = select(Topic).order_by(Topic.position, Topic.key)
    if not include_inactive:
        query = query.where(Topic.is_active.is_(True))
    return (await session.scalars(query)).all()


async def capped_active_topic_count(session: AsyncSession, *, cap: int) -> int:
    """How many topics are offered (active), counting no further than ``cap + 1``."""
    return await capped_count(session, select(Topic.id).where(Topic.is_active.is_(True)), cap=cap)


async def get_topic(session: AsyncSession, *, key: str) -> Topic:
    topic = await session.scalar(select(Topic).where(Topic.key == key))
    if topic is None:
        raise NotFound(f"no topic {key!r}")
    return topic


def topic_snapshot(topic: Topic) -> dict[str, Any]:
    """What the audit log keeps of a topic and its subtopics."""
    return {
        "key": topic.key,
        "names": dict(topic.names),
        "position": topic.position,
        "is_active": topic.is_active,
        "subtopics": [
            {"key": s.key, "names": dict(s.names), "position": s.position, "active": s.is_active}
            for s in topic.subtopics
        ],
    }


async def create_topic(
    session: AsyncSession,
    *,
    key: str,
    names: Mapping[str, str],
    position: int = 0,
    subtopics: Sequence[Mapping[str, Any]] = (),
) -> Topic:
    key = check_key("key", key)
    if await session.scalar(select(Topic.id).where(Topic.key == key)) is not None:
        raise Conflict(f"topic {key!r} exists already")
    topic = Topic(key=key, names=check_names("names", names), position=position, is_active=True)
    topic.subtopics = []
    session.add(topic)
    await _set_subtopics(topic, subtopics)
    await session.flush()
    await audit(
        session,
        action="topic.created",
        target_type=TargetType.TOPIC,
        target_key=topic.key,
        after=topic_snapshot(topic),
    )
    return topic


async def update_topic(
    session: AsyncSession,
    *,
    topic: Topic,
    names: Mapping[str, str] | None = None,
    position: int | None = None,
    is_active: bool | None = None,
    subtopics: Sequence[Mapping[str, Any]] | None = None,
) -> Topic:
    before = topic_snapshot(topic)
    if names is not None:
        topic.names = check_names("names", names)
    if position is not None:
        topic.position = position
    if is_active is not None:
        topic.is_active = is_active
    if subtopics is not None:
        await _set_subtopics(topic, subtopics)
    await session.flush()
    await audit(
        session,
        action="topic.updated",
        target_type=TargetType.TOPIC,
        target_key=topic.key,
        before=before,
        after=topic_snapshot(topic),
    )
    return topic


async def _set_subtopics(topic: Topic, subtopics: Sequence[Mapping[str, Any]]) -> None:
    """Make the topic's subtopics exactly these. Subtopics left out are deactivated, not
    deleted: tickets may still point at them."""
    by_key = {s.key: s for s in topic.subtopics}
    seen: set[str] = set()
    for index, item in enumerate(subtopics):
        key = check_key(f"subtopics[{index}].key", str(item.get("key", "")))
        if key in seen:
            raise ValidationProblem.for_field(f"subtopics[{index}].key", f"{key!r} given twice")
        seen.add(key)
        names = check_names(f"subtopics[{index}].names", item.get("names") or {})
        position = int(item.get("position", index))
        existing = by_key.get(key)
        if existing is None:
            topic.subtopics.append(
                Subtopic(key=key, names=names, position=position, is_active=True)
            )
        else:
            existing.names, existing.position, existing.is_active = names, position, True
    for key, existing in by_key.items():
        if key not in seen:
            existing.is_active = False


async def load_topics(session: AsyncSession, *, items: Sequence[Mapping[str, Any]]) -> list[Topic]:
    """Create or update topics from a document (``helpwire topics load``)."""
    result = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or "key" not in item:
            raise ValidationProblem.for_field(f"[{index}]", "each topic needs a key and names")
        existing = await session.scalar(select(Topic).where(Topic.key == item["key"]))
        if existing is None:
            topic = await create_topic(
                session,
                key=str(item["key"]),
                names=item.get("names") or {},
                position=int(item.get("position", index)),
                subtopics=item.get("subtopics") or [],
            )
        else:
            topic = await update_topic(
                session,
                topic=existing,
                names=item.get("names") or existing.names,
                position=int(item.get("position", index)),
                is_active=True,
                subtopics=item.get("subtopics") or [],
            )
        result.append(topic)
    return result
