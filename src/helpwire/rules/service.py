"""Triggers and automations: checked when saved, listed in order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.problems import Conflict, NotFound, ValidationProblem
from helpwire.rules.actions import check_actions
from helpwire.rules.conditions import check_conditions
from helpwire.rules.models import Automation, Trigger
from helpwire.rules.running import TRIGGER_EVENTS
from helpwire.rules.templates import check_template
from helpwire.sla.models import Calendar

Rule = TypeVar("Rule", Trigger, Automation)


def rule_snapshot(rule: Trigger | Automation) -> dict[str, Any]:
    """What the audit log keeps of a trigger or an automation."""
    snapshot: dict[str, Any] = {
        "name": rule.name,
        "position": rule.position,
        "is_active": rule.is_active,
        "conditions": rule.conditions,
        "actions": rule.actions,
    }
    if isinstance(rule, Trigger):
        snapshot["events"] = list(rule.events or [])
    return snapshot


async def _audit_rule(
    session: AsyncSession,
    rule: Trigger | Automation,
    *,
    done: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    target = TargetType.TRIGGER if isinstance(rule, Trigger) else TargetType.AUTOMATION
    await audit(
        session,
        action=f"{target}.{done}",
        target_type=target,
        target_key=rule.id,
        before=before,
        after=after,
    )


async def list_rules(session: AsyncSession, model: type[Rule]) -> Sequence[Rule]:
    return (await session.scalars(select(model).order_by(model.position, model.id))).all()


async def get_rule(session: AsyncSession, model: type[Rule], *, rule_id: int) -> Rule:
    rule = await session.get(model, rule_id)
    if rule is None:
        raise NotFound(f"no {model.__tablename__[:-1]} {rule_id}")
    return rule


async def create_rule(
    session: AsyncSession, model: type[Rule], *, values: Mapping[str, Any]
) -> Rule:
    now = utcnow()
    extra: dict[str, Any] = {"events": []} if model is Trigger else {}
    rule = model(
        position=0,
        is_active=True,
        conditions=[],
        actions=[],
        created_at=now,
        updated_at=now,
        **extra,
    )
    await _apply(session, rule, values, creating=True)
    session.add(rule)
    await session.flush()
    await _audit_rule(session, rule, done="created", before=None, after=rule_snapshot(rule))
    return rule


async def update_rule(session: AsyncSession, rule: Rule, *, values: Mapping[str, Any]) -> Rule:
    before = rule_snapshot(rule)
    await _apply(session, rule, values, creating=False)
    rule.updated_at = utcnow()
    await session.flush()
    await _audit_rule(session, rule, done="updated", before=before, after=rule_snapshot(rule))
    return rule


async def delete_rule(session: AsyncSession, rule: Trigger | Automation) -> None:
    await _audit_rule(session, rule, done="deleted", before=rule_snapshot(rule), after=None)
    await session.delete(rule)
    await session.flush()


async def _apply(
    session: AsyncSession, rule: Trigger | Automation, values: Mapping[str, Any], *, creating: bool
) -> None:
    model = type(rule)
    if "name" in values or creating:
        name = str(values.get("name") or "").strip()
        if not name:
            raise ValidationProblem.for_field("name", "a rule needs a name")
        taken = await session.scalar(
            select(model.id).where(model.name == name, model.id != rule.id)
        )
        if taken is not None:
            raise Conflict(f"a {model.__tablename__[:-1]} named {name!r} exists already")
        rule.name = name
    for simple in ("position", "is_active"):
        if values.get(simple) is not None:
            setattr(rule, simple, values[simple])
    if isinstance(rule, Trigger) and (values.get("events") is not None or creating):
        rule.events = _events(values.get("events") or [])
    timed = isinstance(rule, Automation)
    if values.get("conditions") is not None or (creating and timed):
        keys = set(await session.scalars(select(Calendar.key)))
        rule.conditions = check_conditions(
            values.get("conditions") or [], timed=timed, calendar_keys=keys
        )
    if values.get("actions") is not None or creating:
        actions = check_actions(values.get("actions") or [])
        for index, action in enumerate(actions):
            for text_field in ("value", "subject"):
                if action["type"] in ("add_note", "reply", "email") and text_field in action:
                    check_template(action[text_field], f"actions[{index}].{text_field}")
        rule.actions = actions


def _events(events: Sequence[str]) -> list[str]:
    if not events:
        raise ValidationProblem.for_field("events", "a trigger runs on at least one event")
    for event in events:
        if event not in TRIGGER_EVENTS:
            raise ValidationProblem.for_field(
                "events", f"{event!r}: one of {', '.join(TRIGGER_EVENTS)}"
            )
    return list(dict.fromkeys(events))
