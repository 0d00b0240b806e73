"""Macros: a canned reply or note with field changes, applied by an agent to a ticket;
shared, or one agent's own. A preview renders what would be sent and lists the changes,
and changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from helpwire.accounts.actor import Actor
from helpwire.audit.log import TargetType
from helpwire.audit.log import record as audit
from helpwire.db.base import utcnow
from helpwire.mail.config import MailConfig
from helpwire.problems import Forbidden, NotFound, ValidationProblem
from helpwire.rules.actions import Outcome, check_actions, perform
from helpwire.rules.models import Macro
from helpwire.rules.templates import check_template, render_text
from helpwire.tickets import service as tickets
from helpwire.tickets.models import BodyFormat, Comment, Ticket

# What a macro may do besides its text: the field changes and tags of rules, no more.
MACRO_ACTIONS = (
    "set_status",
    "set_priority",
    "set_type",
    "set_topic",
    "set_group",
    "assign",
    "add_tags",
    "remove_tags",
)


def visible(actor: Actor) -> Any:
    """Shared macros and the actor's own."""
    return or_(Macro.owner_id.is_(None), Macro.owner_id == actor.user.id)


async def list_macros(
    session: AsyncSession, *, actor: Actor, q: str | None, limit: int = 100
) -> Sequence[Macro]:
    """The macros the actor may use, by name; ``q`` narrows to names or texts containing
    it (the console's reply box searches as the agent types)."""
    query = select(Macro).where(visible(actor)).order_by(func.lower(Macro.name), Macro.id)
    if q:
        pattern = "%" + q.lower().replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(
            or_(
                func.lower(Macro.name).like(pattern, escape="\\"),
                func.lower(Macro.body).like(pattern, escape="\\"),
            )
        )
    return (await session.scalars(query.limit(limit))).all()


async def get_macro(session: AsyncSession, *, actor: Actor, macro_id: int) -> Macro:
    macro = await session.scalar(select(Macro).where(Macro.id == macro_id, visible(actor)))
    if macro is None:
        raise NotFound(f"no macro {macro_id}")
    return macro


def macro_snapshot(macro: Macro) -> dict[str, Any]:
    """What the audit log keeps of a macro."""
    return {
        "name": macro.name,
        "shared": macro.owner_id is None,
        "body": macro.body,
        "body_format": macro.body_format,
        "internal": macro.internal,
        "actions": macro.actions,
    }


async def _audit_macro(
    session: AsyncSession,
    macro: Macro,
    *,
    done: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    await audit(
        session,
        action=f"macro.{done}",
        target_type=TargetType.MACRO,
        target_key=macro.id,
        before=before,
        after=after,
    )


def _check_may_change(actor: Actor, macro: Macro) -> None:
    if macro.owner_id is None and not actor.is_admin:
        raise Forbidden("only admins change shared macros")


def _apply_values(macro: Macro, values: Mapping[str, Any], *, creating: bool) -> None:
    if "name" in values or creating:
        name = str(values.get("name") or "").strip()
        if not name:
            raise ValidationProblem.for_field("name", "a macro needs a name")
        macro.name = name
    if "body" in values or creating:
        body = str(values.get("body") or "")
        check_template(body, "body")
        macro.body = body
    if values.get("body_format") is not None:
        macro.body_format = BodyFormat(values["body_format"]).value
    if values.get("internal") is not None:
        macro.internal = bool(values["internal"])
    if values.get("actions") is not None:
        actions = list(values["actions"])
        for index, action in enumerate(actions):
            if action.get("type") not in MACRO_ACTIONS:
                raise ValidationProblem.for_field(
                    f"actions[{index}].type", f"one of {', '.join(MACRO_ACTIONS)}"
                )
        macro.actions = check_actions(actions) if actions else []
    if not macro.body.strip() and not macro.actions:
        raise ValidationProblem.for_field("body", "a macro writes something or changes something")


async def create_macro(session: AsyncSession, *, actor: Actor, values: Mapping[str, Any]) -> Macro:
    shared = bool(values.get("shared"))
    if shared and not actor.is_admin:
        raise Forbidden("only admins make shared macros")
    now = utcnow()
    macro = Macro(
        owner_id=None if shared else actor.user.id,
        body="",
        body_format=BodyFormat.MARKDOWN.value,
        internal=False,
        actions=[],
        created_at=now,
        updated_at=now,
    )
    _apply_values(macro, values, creating=True)
    session.add(macro)
    await session.flush()
    await _audit_macro(session, macro, done="created", before=None, after=macro_snapshot(macro))
    return macro


async def update_macro(
    session: AsyncSession, *, actor: Actor, macro: Macro, values: Mapping[str, Any]
) -> Macro:
    _check_may_change(actor, macro)
    before = macro_snapshot(macro)
    _apply_values(macro, values, creating=False)
    macro.updated_at = utcnow()
    await session.flush()
    await _audit_macro(session, macro, done="updated", before=before, after=macro_snapshot(macro))
    return macro


async def delete_macro(session: AsyncSession, *, actor: Actor, macro: Macro) -> None:
    _check_may_change(actor, macro)
    await _audit_macro(session, macro, done="deleted", before=macro_snapshot(macro), after=None)
    await session.delete(macro)
    await session.flush()


@dataclass
class Applied:
    """What applying a macro did (or, previewed, would do)."""

    ticket: Ticket
    body: str
    internal: bool
    changes: list[dict[str, Any]]
    comment: Comment | None
    outcome: Outcome | None


async def apply_macro(
    session: AsyncSession,
    *,
    actor: Actor,
    number: int,
    macro_id: int,
    preview: bool,
    mail: MailConfig | None = None,
) -> Applied:
    """Render the macro for the ticket and, unless ``preview``, write its text (a reply or
    a note, as the agent) and make its changes, in the caller's transaction."""
    if not actor.is_staff:
        raise Forbidden("macros are for agents and admins")
    macro = await get_macro(session, actor=actor, macro_id=macro_id)
    ticket = await tickets.get_ticket(session, actor=actor, number=number, for_update=not preview)
    body = render_text(macro.body, ticket=ticket, viewer=actor.user) if macro.body.strip() else ""
    applied = Applied(ticket, body, macro.internal, list(macro.actions), None, None)
    if preview:
        return applied
    if body:
        applied.comment = await tickets.add_comment_to(
            session,
            actor=actor,
            ticket=ticket,
            body=body,
            body_format=BodyFormat(macro.body_format),
            internal=macro.internal,
            file_ids=(),
            max_files=0,
        )
    if macro.actions:
        applied.outcome = await perform(
            session, actions=macro.actions, ticket=ticket, event=None, actor=actor, mail=mail
        )
        if applied.outcome.skipped:
            # The agent asked for these changes: one that is refused refuses the whole.
            raise ValidationProblem.for_field("actions", "; ".join(applied.outcome.skipped))
    return applied
