"""Assembling the application: routers, middleware, and what lives as long as it does."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from fastapi import FastAPI

from helpwire import __version__
from helpwire.accounts.routes import router as accounts_router
from helpwire.api.docs import install_docs
from helpwire.api.errors import install_problem_handlers
from helpwire.api.metrics import Metrics
from helpwire.api.middleware import (
    BodyLimitMiddleware,
    NulCharacterMiddleware,
    RequestContextMiddleware,
)
from helpwire.api.ops import router as ops_router
from helpwire.api.ratelimit import RateLimiter, RateLimitMiddleware
from helpwire.api.responses import install_problem_schemas
from helpwire.assembly import database_for
from helpwire.audit.routes import router as audit_router
from helpwire.bulk.routes import router as bulk_router
from helpwire.db.base import utcnow
from helpwire.db.engine import create_engine
from helpwire.db.session import Database
from helpwire.faces import enabled_faces
from helpwire.faces.common import Face
from helpwire.fields.routes import router as fields_router
from helpwire.files.backends import storage_for
from helpwire.files.routes import router as files_router
from helpwire.files.storage import FileStorage
from helpwire.groups.routes import router as groups_router
from helpwire.housekeeping import job_registry
from helpwire.jobs.routes import router as jobs_router
from helpwire.jobs.worker import Worker
from helpwire.logs import configure_logging
from helpwire.mail.config import MailConfig
from helpwire.mail.doors import Doors, run_doors
from helpwire.mail.inbound import InboundConfig, Pipeline
from helpwire.mail.routes import INBOUND_PATH
from helpwire.mail.routes import router as mail_router
from helpwire.notify.outbound import AddressPolicy
from helpwire.notify.relay import Relay
from helpwire.notify.routes import router as notify_router
from helpwire.presence.routes import router as presence_router
from helpwire.reports.routes import router as reports_router
from helpwire.rights.routes import router as rights_router
from helpwire.rules.routes import router as rules_router
from helpwire.settings import Settings
from helpwire.sla.routes import router as sla_router
from helpwire.tickets.routes import router as tickets_router
from helpwire.topics.routes import router as topics_router
from helpwire.views.routes import router as views_router
from helpwire.web.setup import carries_files, install_web

log = logging.getLogger("helpwire")

UPLOAD_PATH = "/api/v1/files"
MULTIPART_OVERHEAD = 64 * 1024


def worker_for(database: Database, settings: Settings, *, metrics: Metrics | None) -> Worker:
    """A job worker with every kind this installation runs (the hourly housekeeping
    among them: forgetting expired idempotency keys and web sessions, purging delivered
    notifications)."""
    return Worker(
        database,
        job_registry(settings),
        metrics=metrics,
        lease=timedelta(seconds=settings.worker_lease_seconds),
        poll_interval=settings.worker_poll_seconds,
        concurrency=settings.worker_concurrency,
    )


def relay_for(
    database: Database,
    settings: Settings,
    *,
    metrics: Metrics | None,
    files: FileStorage | None = None,
) -> Relay:
    """The relay as the settings say; ``files``, where the files mail attaches are read
    (the process's storage when it has one already)."""
    return Relay(
        database,
        base_url=settings.base_url,
        metrics=metrics,
        batch_size=settings.relay_batch_size,
        lease=timedelta(seconds=settings.relay_lease_seconds),
        poll_interval=settings.relay_poll_seconds,
        policy=AddressPolicy.from_setting(settings.channel_allowed_networks),
        files=files if files is not None else storage_for(settings, database),
    )


def _body_limits(settings: Settings, faces: list[Face]) -> Callable[[str], int]:
    """The largest body each path takes."""

    def body_limit(path: str) -> int:
        if path == INBOUND_PATH:
            return settings.mail_max_bytes
        if path == UPLOAD_PATH:
            return settings.max_file_bytes + MULTIPART_OVERHEAD
        if carries_files(path):
            files = settings.max_files_per_comment * settings.max_file_bytes
            return max(settings.max_request_bytes, files + MULTIPART_OVERHEAD)
        if any(face.carries_files(path) for face in faces):
            base64_file = (settings.max_file_bytes + 2) // 3 * 4
            return max(settings.max_request_bytes, base64_file + MULTIPART_OVERHEAD)
        return settings.max_request_bytes

    return body_limit


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # Checked before anything starts: a wrong mail setting stops here, with its name.
    mail = MailConfig.from_settings(settings)
    inbound = InboundConfig.from_settings(settings)
    doors = Doors.from_settings(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        database = database_for(engine, mail=mail)
        app.state.database = database
        app.state.storage = storage_for(settings, database)
        app.state.mail_pipeline = Pipeline(database, app.state.storage, inbound, mail=mail)
        background: list[asyncio.Task[None]] = []
        stop = asyncio.Event()
        relay: Relay | None = None
        if settings.relay_in_process:
            relay = relay_for(
                database, settings, metrics=app.state.metrics, files=app.state.storage
            )
            background.append(asyncio.create_task(relay.run_forever(stop)))
        if settings.worker_in_process:
            worker = worker_for(database, settings, metrics=app.state.metrics)
            background.append(asyncio.create_task(worker.run_forever(stop)))
        if doors.any_open:
            doors_running = run_doors(
                app.state.mail_pipeline,
                doors,
                stop,
                on_listening=lambda server: setattr(app.state, "mail_listener", server),
            )
            background.append(asyncio.create_task(doors_running))
        try:
            yield
        finally:
            stop.set()
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if relay is not None:
                await relay.aclose()
            await engine.dispose()

    app = FastAPI(
        title="helpwire",
        version=__version__,
        summary="Support tickets with a full conversation, over HTTP.",
        lifespan=lifespan,
        # /docs and /redoc are installed below with assets served by helpwire itself.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # What "now" is for requests that keep time (presence); tests put a clock of theirs here.
    app.state.clock = utcnow
    app.state.mail = mail  # what rules and macros that send mail send it with (or None)
    app.state.metrics = Metrics.create()

    install_problem_handlers(app)
    install_problem_schemas(app)
    install_docs(app)
    for router in (
        tickets_router,
        bulk_router,
        views_router,
        files_router,
        topics_router,
        groups_router,
        presence_router,
        fields_router,
        sla_router,
        rules_router,
        reports_router,
        accounts_router,
        rights_router,
        notify_router,
        mail_router,
        jobs_router,
        audit_router,
        ops_router,
    ):
        app.include_router(router)
    app.state.faces = enabled_faces(settings)
    for face in app.state.faces:
        app.include_router(face.router)

    install_web(app)

    body_limit = _body_limits(settings, list(app.state.faces))

    # The last added runs first: request id, then the body limit, then the NUL check
    # (which reads bodies the limit has already bounded).
    app.add_middleware(NulCharacterMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit_for=body_limit)
    # Rate limits run right after the request id: a refused request reads no body.
    limiter = RateLimiter.from_settings(settings)
    if limiter is not None:
        app.add_middleware(RateLimitMiddleware, limiter=limiter)
    app.add_middleware(RequestContextMiddleware, metrics=lambda: app.state.metrics)
    return app


def app_from_environment() -> FastAPI:
    """Entry point for uvicorn workers (``--factory``): settings from the environment.

    Each worker process of ``helpwire serve --workers N`` starts here, with no logging
    configured (the parent's set-up does not cross the process boundary), so it sets up
    its own."""
    settings = Settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    return create_app(settings)
