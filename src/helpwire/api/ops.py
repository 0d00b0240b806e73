"""Operations endpoints: liveness, readiness, metrics."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from helpwire.api.deps import bearer_or_basic_token, get_database
from helpwire.api.metrics import Metrics
from helpwire.api.responses import problem_responses
from helpwire.db.errors import RETRY_AFTER_SECONDS
from helpwire.db.migrate import revision_status
from helpwire.problems import Unauthenticated
from helpwire.settings import Settings

log = logging.getLogger("helpwire.ops")

router = APIRouter(tags=["operations"])

# A load balancer or client told "not ready" learns when to ask again.
NOT_READY_HEADERS = {"Retry-After": str(RETRY_AFTER_SECONDS)}


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The database answers and its schema is current",
    responses={
        503: {
            "description": "Not ready: the database cannot be used or its schema is not "
            "current; Retry-After says when to ask again.",
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
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
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers=NOT_READY_HEADERS,
        )
    if current != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "schema": current, "expected": head},
            status_code=503,
            headers=NOT_READY_HEADERS,
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": current})


def _metrics_allowed(request: Request) -> bool:
    """With HELPWIRE_METRICS_TOKEN set, only ``Authorization: Bearer <that token>`` reads
    the metrics (they name routes, channels and volumes)."""
    settings: Settings = request.app.state.settings
    if settings.metrics_token is None:
        return True
    expected = settings.metrics_token.get_secret_value().encode()
    sent = bearer_or_basic_token(request.headers.get("authorization")) or ""
    # Compared in constant time: the token must not leak one character at a time.
    return hmac.compare_digest(sent.encode(), expected)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=PlainTextResponse,
    # With HELPWIRE_METRICS_TOKEN set, a request without that token is refused.
    responses=problem_responses(401),
)
async def metrics(request: Request) -> PlainTextResponse:
    if not _metrics_allowed(request):
        raise Unauthenticated(
            "the metrics need the metrics token: Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="helpwire-metrics"'},
        )
    registry: Metrics = request.app.state.metrics
    return PlainTextResponse(generate_latest(registry.registry), media_type=CONTENT_TYPE_LATEST)
