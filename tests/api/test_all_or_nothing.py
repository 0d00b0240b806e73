"""A refused request leaves the database exactly as it was, however the route answers.

A route may refuse by raising (the native API) or by answering an error itself (a web form
shown again, a face's own error body). Either way nothing it wrote may stay. The probe
routes here write a topic and then refuse, through the app's real request session."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from helpwire.api.deps import Session
from helpwire.api.routing import TransactionalRoute
from helpwire.db.session import Database
from helpwire.faces.common import translating_route
from helpwire.problems import Conflict
from helpwire.topics import service as topics
from helpwire.topics.models import Topic


def _translate(_request: Request, exc: Exception) -> Response | None:
    if isinstance(exc, Conflict):
        return JSONResponse({"error": exc.detail}, status_code=400)
    return None


def _probe_routes(app: FastAPI) -> None:
    answering = APIRouter(route_class=TransactionalRoute)
    translating = APIRouter(route_class=translating_route(_translate))

    @answering.post("/probe/answer/{status}")
    async def answer(status: int, session: Session) -> Response:
        await topics.create_topic(session, key=f"answered-{status}", names={"en": "x"})
        return JSONResponse({}, status_code=status)

    @translating.post("/probe/translated")
    async def translated(session: Session) -> Response:
        await topics.create_topic(session, key="translated", names={"en": "x"})
        raise Conflict("refused after a write")

    app.include_router(answering)
    app.include_router(translating)


async def _topics(database: Database) -> set[str]:
    async with database.reader() as session:
        return set((await session.scalars(select(Topic.key))).all())


async def _count(database: Database) -> int:
    async with database.reader() as session:
        return int(await session.scalar(select(func.count()).select_from(Topic)) or 0)


async def test_an_error_answered_without_raising_rolls_back(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    _probe_routes(app)
    for status in (400, 409, 422, 500):
        response = await client.post(f"/probe/answer/{status}")
        assert response.status_code == status
    assert await _count(database) == 0


async def test_a_success_or_redirect_commits(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    _probe_routes(app)
    for status in (200, 303):
        assert (await client.post(f"/probe/answer/{status}")).status_code == status
    assert await _topics(database) == {"answered-200", "answered-303"}


async def test_a_face_translating_a_refusal_rolls_back(
    app: FastAPI, client: httpx.AsyncClient, database: Database
) -> None:
    _probe_routes(app)
    response = await client.post("/probe/translated")
    assert response.status_code == 400
    assert response.json() == {"error": "refused after a write"}
    assert await _count(database) == 0
