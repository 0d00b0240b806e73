"""Admin pages for accounts with their projects, and for topics with localized names."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from helpwire.accounts import service as accounts
from helpwire.accounts.schemas import AccountCreate, ProjectIn
from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.problems import Problem, ValidationProblem
from helpwire.topics import service as topics
from helpwire.topics.models import Topic
from helpwire.topics.schemas import TopicCreate, TopicUpdate
from helpwire.web.admin_forms import (
    PAGE_SIZE,
    FormError,
    checked,
    form_error,
    form_int,
    names_text,
    parse_names,
    pydantic_error,
)
from helpwire.web.auth import AdminWeb, CheckedForm
from helpwire.web.i18n import translate
from helpwire.web.refusable import refusable
from helpwire.web.shared import form_text
from helpwire.web.templating import redirect, render

router = APIRouter(route_class=TransactionalRoute, include_in_schema=False)

# Empty subtopic rows offered under a topic's subtopics, for adding new ones.
BLANK_SUBTOPIC_ROWS = 3
MAX_SUBTOPIC_ROWS = 200

# --- accounts and projects -------------------------------------------------------------


async def _accounts_page(
    request: Request,
    session: AsyncSession,
    *,
    form: FormData | None = None,
    error: FormError | None = None,
) -> Response:
    after = (request.query_params.get("after") or "")[:64] or None
    rows, more = await accounts.page_accounts(session, after_key=after, limit=PAGE_SIZE)
    users_by_account, _members = await accounts.member_counts(
        session, account_ids=[a.id for a in rows]
    )
    return render(
        request,
        "admin/accounts.html",
        status_code=422 if error else 200,
        accounts=rows,
        users_by_account=users_by_account,
        next_after=rows[-1].key if more and rows else None,
        paged=after is not None,
        values={
            "key": form_text(form, "key").strip() if form else "",
            "name": form_text(form, "name").strip() if form else "",
        },
        error=error,
    )


@router.get("/admin/accounts")
async def accounts_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    return await _accounts_page(request, session)


@router.post("/admin/accounts")
async def create_account(
    request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    try:
        body = AccountCreate.model_validate(
            {"key": form_text(form, "key").strip(), "name": form_text(form, "name") or None}
        )
    except ValidationError as exc:
        return await _accounts_page(request, session, form=form, error=pydantic_error(exc))
    try:
        async with refusable(request, session):
            account = await accounts.create_account(session, key=body.key, name=body.name)
    except Problem as problem:
        return await _accounts_page(request, session, form=form, error=form_error(problem))
    notice = translate(request, "Account %(key)s created.", key=account.key)
    return redirect(f"/admin/accounts/{account.key}", notice=notice)


async def _account_page(
    request: Request,
    session: AsyncSession,
    *,
    key: str,
    form: FormData | None = None,
    error: FormError | None = None,
) -> Response:
    account = await accounts.get_account(session, key=key, with_projects=True)
    users, members = await accounts.member_counts(session, account_ids=[account.id])
    return render(
        request,
        "admin/account.html",
        status_code=422 if error else 200,
        account=account,
        user_count=users.get(account.id, 0),
        members=members,
        values={
            "key": form_text(form, "key").strip() if form else "",
            "name": form_text(form, "name").strip() if form else "",
        },
        error=error,
    )


@router.get("/admin/accounts/{key}")
async def account_page(key: str, request: Request, session: Session, _web: AdminWeb) -> Response:
    return await _account_page(request, session, key=key)


@router.post("/admin/accounts/{key}/projects")
async def create_project(
    key: str, request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    account = await accounts.get_account(session, key=key)
    try:
        body = ProjectIn.model_validate(
            {"key": form_text(form, "key").strip(), "name": form_text(form, "name") or None}
        )
    except ValidationError as exc:
        return await _account_page(request, session, key=key, form=form, error=pydantic_error(exc))
    try:
        async with refusable(request, session):
            project = await accounts.create_project(
                session, account=account, key=body.key, name=body.name
            )
    except Problem as problem:
        return await _account_page(request, session, key=key, form=form, error=form_error(problem))
    notice = translate(
        request,
        "Project %(project)s added to %(account)s.",
        project=project.key,
        account=account.key,
    )
    return redirect(f"/admin/accounts/{account.key}", notice=notice)


# --- topics ----------------------------------------------------------------------------


@router.get("/admin/topics")
async def topics_page(request: Request, session: Session, _web: AdminWeb) -> Response:
    rows = await topics.list_topics(session, include_inactive=True)
    return render(request, "admin/topics.html", topics=rows)


def _topic_values(topic: Topic | None) -> dict[str, Any]:
    """The form of a topic as stored (or an empty one for a new topic)."""
    subtopics = [
        {
            "key": s.key,
            "names": names_text(s.names),
            "position": str(s.position),
            "active": s.is_active,
            "existing": True,
        }
        for s in (topic.subtopics if topic else [])
    ]
    blanks = [
        {"key": "", "names": "", "position": "", "active": True, "existing": False}
        for _ in range(BLANK_SUBTOPIC_ROWS)
    ]
    return {
        "key": topic.key if topic else "",
        "names": names_text(topic.names) if topic else "en: ",
        "position": str(topic.position) if topic else "0",
        "active": topic.is_active if topic else True,
        "subtopics": subtopics + blanks,
    }


def _posted_topic_values(form: FormData) -> dict[str, Any]:
    rows = min(form_int(form, "subtopic_rows", default=0) or 0, MAX_SUBTOPIC_ROWS)
    return {
        "key": form_text(form, "key").strip(),
        "names": form_text(form, "names"),
        "position": form_text(form, "position").strip(),
        "active": checked(form, "active"),
        "subtopics": [
            {
                "key": form_text(form, f"sub-{i}-key").strip(),
                "names": form_text(form, f"sub-{i}-names"),
                "position": form_text(form, f"sub-{i}-position").strip(),
                "active": checked(form, f"sub-{i}-active"),
                "existing": checked(form, f"sub-{i}-existing"),
            }
            for i in range(rows)
        ],
    }


def _subtopics_of(form: FormData, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The subtopics to keep, as the topics service takes them. A row without a key is
    left out (an empty extra row); an unticked "active" box leaves the subtopic out too,
    which deactivates it."""
    chosen: list[dict[str, Any]] = []
    for index, row in enumerate(values["subtopics"]):
        if not row["key"]:
            if row["names"].strip():
                raise ValidationProblem.for_field(
                    f"sub-{index}-key", f"subtopic row {index + 1} has names but no key"
                )
            continue
        if not row["active"]:
            continue
        item: dict[str, Any] = {
            "key": row["key"],
            "names": parse_names(row["names"], field=f"subtopic {row['key']} names"),
        }
        position = form_int(form, f"sub-{index}-position")
        if position is not None:
            item["position"] = position
        chosen.append(item)
    return chosen


def _topic_page(
    request: Request,
    *,
    topic_key: str | None,
    values: dict[str, Any],
    error: FormError | None = None,
) -> Response:
    """The form of a new topic (``topic_key`` None) or of an existing one. It takes the
    key, not the row: after a refused change the row is expired and must not be read."""
    return render(
        request,
        "admin/topic_form.html",
        status_code=422 if error else 200,
        topic_key=topic_key,
        values=values,
        error=error,
    )


@router.get("/admin/topics/new")
async def new_topic_form(request: Request, _web: AdminWeb) -> Response:
    return _topic_page(request, topic_key=None, values=_topic_values(None))


@router.post("/admin/topics")
async def create_topic(
    request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    values = _posted_topic_values(form)
    try:
        body = TopicCreate.model_validate(
            {
                "key": values["key"],
                "names": parse_names(values["names"], field="names"),
                "position": form_int(form, "position", default=0),
                "subtopics": _subtopics_of(form, values),
            }
        )
        async with refusable(request, session):
            topic = await topics.create_topic(
                session,
                key=body.key,
                names=body.names,
                position=body.position,
                subtopics=[s.model_dump(exclude_none=True) for s in body.subtopics],
            )
    except ValidationError as exc:
        return _topic_page(request, topic_key=None, values=values, error=pydantic_error(exc))
    except Problem as problem:
        return _topic_page(request, topic_key=None, values=values, error=form_error(problem))
    notice = translate(request, "Topic %(key)s created.", key=topic.key)
    return redirect(f"/admin/topics/{topic.key}", notice=notice)


@router.get("/admin/topics/{key}")
async def topic_page(key: str, request: Request, session: Session, _web: AdminWeb) -> Response:
    topic = await topics.get_topic(session, key=key)
    return _topic_page(request, topic_key=topic.key, values=_topic_values(topic))


@router.post("/admin/topics/{key}")
async def update_topic(
    key: str, request: Request, session: Session, _web: AdminWeb, form: CheckedForm
) -> Response:
    topic = await topics.get_topic(session, key=key)
    key = topic.key
    values = _posted_topic_values(form)
    values["key"] = key
    try:
        body = TopicUpdate.model_validate(
            {
                "names": parse_names(values["names"], field="names"),
                "position": form_int(form, "position", default=0),
                "is_active": values["active"],
                "subtopics": _subtopics_of(form, values),
            }
        )
        async with refusable(request, session):
            await topics.update_topic(
                session,
                topic=topic,
                names=body.names,
                position=body.position,
                is_active=body.is_active,
                subtopics=[s.model_dump(exclude_none=True) for s in body.subtopics or []],
            )
    except ValidationError as exc:
        return _topic_page(request, topic_key=key, values=values, error=pydantic_error(exc))
    except Problem as problem:
        return _topic_page(request, topic_key=key, values=values, error=form_error(problem))
    notice = translate(request, "Topic %(key)s saved.", key=topic.key)
    return redirect(f"/admin/topics/{topic.key}", notice=notice)
