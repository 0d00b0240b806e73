"""The topics API: everyone lists, admins create and change."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from helpwire.api.deps import AdminPrincipal, CurrentPrincipal, Session
from helpwire.api.idempotency import IdempotencyKey, create_once
from helpwire.api.responses import PROBLEM_RESPONSES
from helpwire.topics import service
from helpwire.topics.models import Topic
from helpwire.topics.schemas import SubtopicOut, TopicCreate, TopicOut, TopicUpdate

router = APIRouter(prefix="/api/v1", tags=["topics"], responses=PROBLEM_RESPONSES)


def topic_out(topic: Topic, *, include_inactive: bool) -> TopicOut:
    return TopicOut(
        key=topic.key,
        names=topic.names,
        position=topic.position,
        is_active=topic.is_active,
        subtopics=[
            SubtopicOut(key=s.key, names=s.names, position=s.position, is_active=s.is_active)
            for s in topic.subtopics
            if include_inactive or s.is_active
        ],
    )


@router.get("/topics", response_model=list[TopicOut], summary="Topics and their subtopics")
async def list_topics(session: Session, principal: CurrentPrincipal) -> list[TopicOut]:
    staff = principal.is_staff
    topics = await service.list_topics(session, include_inactive=staff)
    return [topic_out(t, include_inactive=staff) for t in topics]


@router.post(
    "/topics",
    status_code=status.HTTP_201_CREATED,
    response_model=TopicOut,
    summary="Create a topic (admin)",
)
async def create_topic(
    request: Request,
    body: TopicCreate,
    session: Session,
    admin: AdminPrincipal,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    async def produce() -> tuple[TopicOut, dict[str, str]]:
        topic = await service.create_topic(
            session,
            key=body.key,
            names=body.names,
            position=body.position,
            subtopics=[s.model_dump(exclude_none=True) for s in body.subtopics],
        )
        return topic_out(topic, include_inactive=True), {}

    return await create_once(session, request=request, actor=admin, body=body, produce=produce)


@router.patch("/topics/{key}", response_model=TopicOut, summary="Change a topic (admin)")
async def update_topic(
    key: str, body: TopicUpdate, session: Session, _admin: AdminPrincipal
) -> TopicOut:
    topic = await service.get_topic(session, key=key)
    topic = await service.update_topic(
        session,
        topic=topic,
        names=body.names,
        position=body.position,
        is_active=body.is_active,
        subtopics=(
            None
            if body.subtopics is None
            else [s.model_dump(exclude_none=True) for s in body.subtopics]
        ),
    )
    return topic_out(topic, include_inactive=True)
