"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from helpwire.api.deps import get_database
from helpwire.api.metrics import Metrics
from helpwire.db.migrate import revision_status

log = logging.getLogger("helpwire.ops")

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="The database answers and its schema is current")
async def readyz(request: Request) -> JSONResponse:
    database = get_database(request)
    try:
        async with database.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        current, head = await revision_status(database.engine)
    except Exception:  # any failure to reach the database means not ready
        # The reason goes to the log, not to the (unauthenticated) caller: database errors
        # name hosts, paths and users.
        log.warning("readiness check: the database cannot be used", exc_info=True)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "schema": current, "expected": head},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": current})


@router.get("/metrics", summary="Prometheus metrics", response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    registry: Metrics = request.app.state.metrics
    return PlainTextResponse(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
